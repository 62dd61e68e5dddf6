package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/examples/shop/internal/orders"
	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
)

// fakeStore keeps orders in a slice.
type fakeStore struct {
	orders  []orders.Order
	pingErr error
}

func (f *fakeStore) Create(_ context.Context, n orders.NewOrder) (orders.Order, error) {
	o := orders.Order{ID: int64(len(f.orders) + 1), Item: n.Item, Qty: n.Qty, Status: orders.StatusPending}
	f.orders = append(f.orders, o)
	return o, nil
}

func (f *fakeStore) Get(_ context.Context, id int64) (orders.Order, error) {
	for _, o := range f.orders {
		if o.ID == id {
			return o, nil
		}
	}
	return orders.Order{}, store.ErrNotFound
}

func (f *fakeStore) List(context.Context, int) ([]orders.Order, error) { return f.orders, nil }
func (f *fakeStore) Ping(context.Context) error                        { return f.pingErr }

// fakeQueue records pushed jobs.
type fakeQueue struct {
	jobs    []queue.Job
	pushErr error
	pingErr error
}

func (f *fakeQueue) Push(_ context.Context, j queue.Job) error {
	if f.pushErr != nil {
		return f.pushErr
	}
	f.jobs = append(f.jobs, j)
	return nil
}

func (f *fakeQueue) Ping(context.Context) error { return f.pingErr }

var clock = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newServer() (*Server, *fakeStore, *fakeQueue) {
	st, q := &fakeStore{}, &fakeQueue{}
	s := &Server{Store: st, Queue: q, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock }}
	return s, st, q
}

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func TestCreateOrderStoresAndQueues(t *testing.T) {
	s, st, q := newServer()
	rec := do(t, s.Handler(), "POST", "/orders", `{"item": " Coffee", "qty": 3}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	var o orders.Order
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	if o.ID != 1 || o.Item != "coffee" || o.Qty != 3 || o.Status != orders.StatusPending {
		t.Fatalf("order = %+v", o)
	}
	if got := rec.Header().Get("Location"); got != "/orders/1" {
		t.Errorf("Location = %q", got)
	}
	if len(st.orders) != 1 {
		t.Errorf("stored %d orders, want 1", len(st.orders))
	}
	if len(q.jobs) != 1 || q.jobs[0].OrderID != 1 || !q.jobs[0].EnqueuedAt.Equal(clock) {
		t.Errorf("queued %+v, want one job for order 1", q.jobs)
	}
}

func TestCreateOrderRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `item=coffee`,
		"unknown item":  `{"item": "caviar", "qty": 1}`,
		"zero qty":      `{"item": "pen", "qty": 0}`,
		"unknown field": `{"item": "pen", "qty": 1, "price": 0}`,
		"two objects":   `{"item": "pen", "qty": 1} {"item": "pen", "qty": 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, st, q := newServer()
			rec := do(t, s.Handler(), "POST", "/orders", body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("body %s has no error field", rec.Body)
			}
			if len(st.orders)+len(q.jobs) != 0 {
				t.Errorf("rejected order was stored or queued")
			}
		})
	}
}

func TestCreateOrderQueueDown(t *testing.T) {
	s, st, q := newServer()
	q.pushErr = errors.New("connection refused")
	rec := do(t, s.Handler(), "POST", "/orders", `{"item": "pen", "qty": 1}`)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", rec.Code)
	}
	if want := "order 1 stored but not queued"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("body %s does not say %q", rec.Body, want)
	}
	if len(st.orders) != 1 {
		t.Errorf("order not kept")
	}
}

func TestGetOrder(t *testing.T) {
	s, _, _ := newServer()
	h := s.Handler()
	do(t, h, "POST", "/orders", `{"item": "pen", "qty": 2}`)
	if rec := do(t, h, "GET", "/orders/1", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"item":"pen"`) {
		t.Errorf("GET /orders/1 = %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, "GET", "/orders/2", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /orders/2 = %d, want 404", rec.Code)
	}
	if rec := do(t, h, "GET", "/orders/abc", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("GET /orders/abc = %d, want 400", rec.Code)
	}
}

func TestListOrdersEmptyIsArray(t *testing.T) {
	s, _, _ := newServer()
	s.Store.(*fakeStore).orders = []orders.Order{}
	rec := do(t, s.Handler(), "GET", "/orders", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Fatalf("GET /orders = %d %q, want 200 []", rec.Code, rec.Body)
	}
}

func TestHealth(t *testing.T) {
	s, st, _ := newServer()
	if rec := do(t, s.Handler(), "GET", "/health", ""); rec.Code != http.StatusOK {
		t.Fatalf("healthy: status %d", rec.Code)
	}
	st.pingErr = errors.New("db down")
	rec := do(t, s.Handler(), "GET", "/health", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "db down") {
		t.Fatalf("db down: %d %s", rec.Code, rec.Body)
	}
}
