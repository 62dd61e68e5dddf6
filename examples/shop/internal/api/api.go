// Package api is the shop's HTTP API: place, list and read orders. Orders are
// stored pending and a job per order is queued for the worker.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/wtenv/wtenv/examples/shop/internal/orders"
	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
)

// Store is what the API needs from the order store.
type Store interface {
	Create(ctx context.Context, n orders.NewOrder) (orders.Order, error)
	Get(ctx context.Context, id int64) (orders.Order, error)
	List(ctx context.Context, limit int) ([]orders.Order, error)
	Ping(ctx context.Context) error
}

// Queue is what the API needs from the job queue.
type Queue interface {
	Push(ctx context.Context, j queue.Job) error
	Ping(ctx context.Context) error
}

// maxBody bounds a request body; an order is a few dozen bytes.
const maxBody = 4 << 10

// listLimit is how many orders GET /orders returns.
const listLimit = 100

// Server serves the API.
type Server struct {
	Store Store
	Queue Queue
	Log   *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.createOrder)
	mux.HandleFunc("GET /orders", s.listOrders)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.HandleFunc("GET /items", s.listItems)
	mux.HandleFunc("GET /health", s.health)
	return mux
}

// DecodeNewOrder reads and validates an order request body.
func DecodeNewOrder(r io.Reader) (orders.NewOrder, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxBody))
	dec.DisallowUnknownFields()
	var n orders.NewOrder
	if err := dec.Decode(&n); err != nil {
		return orders.NewOrder{}, fmt.Errorf(`body must be JSON like {"item": "coffee", "qty": 2}: %w`, err)
	}
	if dec.More() {
		return orders.NewOrder{}, errors.New("body must hold one JSON object")
	}
	n = n.Normalize()
	if err := n.Validate(); err != nil {
		return orders.NewOrder{}, err
	}
	return n, nil
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	n, err := DecodeNewOrder(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	o, err := s.Store.Create(r.Context(), n)
	if err != nil {
		s.Log.Error("create order", "err", err)
		writeError(w, http.StatusInternalServerError, errors.New("could not store the order"))
		return
	}
	// The order is stored before its job is queued, so the worker never
	// sees a job for an order it cannot read. If queueing fails the order
	// stays pending and the client is told; a real shop would use an outbox.
	if err := s.Queue.Push(r.Context(), queue.Job{OrderID: o.ID, EnqueuedAt: s.now()}); err != nil {
		s.Log.Error("queue order", "id", o.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("order %d stored but not queued", o.ID))
		return
	}
	s.Log.Info("order placed", "id", o.ID, "item", o.Item, "qty", o.Qty)
	w.Header().Set("Location", fmt.Sprintf("/orders/%d", o.ID))
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.List(r.Context(), listLimit)
	if err != nil {
		s.Log.Error("list orders", "err", err)
		writeError(w, http.StatusInternalServerError, errors.New("could not list orders"))
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("order id %q is not a positive number", r.PathValue("id")))
		return
	}
	o, err := s.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Errorf("order %d not found", id))
		return
	}
	if err != nil {
		s.Log.Error("get order", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, errors.New("could not read the order"))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) listItems(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, orders.Items())
}

// health reports ok only when both the database and the queue answer.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"db": "ok", "queue": "ok"}
	status := http.StatusOK
	if err := s.Store.Ping(ctx); err != nil {
		checks["db"], status = err.Error(), http.StatusServiceUnavailable
	}
	if err := s.Queue.Ping(ctx); err != nil {
		checks["queue"], status = err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
