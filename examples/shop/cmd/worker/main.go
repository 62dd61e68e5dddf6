// Command worker prices queued orders. Settings: DATABASE_URL, REDIS_ADDR
// (queue:6379), HEALTH_PORT (8081) for its health endpoint. `worker health`
// probes the running worker.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/service"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
	"github.com/wtenv/wtenv/examples/shop/internal/worker"
)

func main() {
	port := service.Env("HEALTH_PORT", "8081")
	os.Exit(service.Main("worker", port, os.Args[1:], os.Stderr, func(ctx context.Context, log *slog.Logger) error {
		return run(ctx, log, port)
	}))
}

func run(ctx context.Context, log *slog.Logger, port string) error {
	db, err := store.Open(ctx, service.Env("DATABASE_URL", "postgres://shop:shop@db:5432/shop?sslmode=disable"))
	if err != nil {
		return err
	}
	defer db.Close()
	// The worker may start before the api; both create the schema, under a lock.
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	q := queue.NewRedis(service.Env("REDIS_ADDR", "queue:6379"))
	defer q.Close()
	w := &worker.Worker{Store: db, Queue: q, Log: log}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(rw http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]any{"db": "ok", "queue": "ok", "processed": w.Processed()}
		status := http.StatusOK
		if err := db.Ping(pctx); err != nil {
			checks["db"], status = err.Error(), http.StatusServiceUnavailable
		}
		if err := q.Ping(pctx); err != nil {
			checks["queue"], status = err.Error(), http.StatusServiceUnavailable
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		_ = json.NewEncoder(rw).Encode(checks)
	})
	// If the health server cannot start, stop consuming too: a worker
	// without its health endpoint would be restarted as unhealthy anyway.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		err := service.Serve(ctx, ":"+port, mux, log)
		cancel()
		errc <- err
	}()
	log.Info("consuming", "queue", queue.DefaultKey)
	if err := w.Run(ctx); err != nil {
		return err
	}
	return <-errc
}
