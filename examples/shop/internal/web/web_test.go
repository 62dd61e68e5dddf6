package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPageAndHealth(t *testing.T) {
	h, err := Handler("http://api:8080", discard())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `fetch("/api"`) {
		t.Fatalf("GET / = %d, page does not call /api", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /health = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /nope = %d, want 404", rec.Code)
	}
}

func TestProxyStripsPrefix(t *testing.T) {
	var gotPath, gotMethod, gotBody string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotMethod, gotBody = r.URL.Path, r.Method, string(b)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":1}`)
	}))
	defer upstream.Close()
	h, err := Handler(upstream.URL, discard())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/orders", strings.NewReader(`{"item":"pen","qty":1}`)))
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"id":1}` {
		t.Fatalf("proxied response = %d %q", rec.Code, rec.Body)
	}
	if gotPath != "/orders" || gotMethod != "POST" || gotBody != `{"item":"pen","qty":1}` {
		t.Fatalf("upstream saw %s %s %q", gotMethod, gotPath, gotBody)
	}
}

func TestProxyAPIDown(t *testing.T) {
	h, err := Handler("http://127.0.0.1:1", discard())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/orders", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "not reachable") {
		t.Fatalf("API down: %d %s", rec.Code, rec.Body)
	}
}

func TestBadAPIURL(t *testing.T) {
	if _, err := Handler("api:8080", discard()); err == nil {
		t.Fatal("Handler accepted an API URL without scheme")
	}
}
