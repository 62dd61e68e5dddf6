// Command api is the shop's HTTP API. Settings: PORT (8080), DATABASE_URL,
// REDIS_ADDR (queue:6379). `api health` probes the running server.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/wtenv/wtenv/examples/shop/internal/api"
	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/service"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
)

func main() {
	port := service.Env("PORT", "8080")
	os.Exit(service.Main("api", port, os.Args[1:], os.Stderr, func(ctx context.Context, log *slog.Logger) error {
		return run(ctx, log, port)
	}))
}

func run(ctx context.Context, log *slog.Logger, port string) error {
	db, err := store.Open(ctx, service.Env("DATABASE_URL", "postgres://shop:shop@db:5432/shop?sslmode=disable"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	q := queue.NewRedis(service.Env("REDIS_ADDR", "queue:6379"))
	defer q.Close()
	srv := &api.Server{Store: db, Queue: q, Log: log}
	return service.Serve(ctx, ":"+port, srv.Handler(), log)
}
