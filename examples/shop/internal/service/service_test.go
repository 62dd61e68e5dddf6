package service

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	if err := Check(context.Background(), ok.URL); err != nil {
		t.Fatalf("Check(healthy) = %v", err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "db down", http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	err := Check(context.Background(), bad.URL)
	if err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("Check(unhealthy) = %v, want the body in the error", err)
	}
}

func TestMainHealthAndUsage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var stderr bytes.Buffer
	if code := Main("x", port, []string{"health"}, &stderr, nil); code != 0 {
		t.Fatalf("health exit %d: %s", code, stderr.String())
	}
	if code := Main("x", port, []string{"bogus"}, &stderr, nil); code != 2 {
		t.Fatalf("bogus exit %d, want 2", code)
	}
	srv.Close()
	if code := Main("x", port, []string{"health"}, &stderr, nil); code != 1 {
		t.Fatalf("health of a closed server exit %d, want 1", code)
	}
}
