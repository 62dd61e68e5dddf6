// Command web serves the shop's page and proxies /api/ to the API. Settings:
// PORT (3000), API_URL (http://api:8080). `web health` probes the running
// server.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/wtenv/wtenv/examples/shop/internal/service"
	"github.com/wtenv/wtenv/examples/shop/internal/web"
)

func main() {
	port := service.Env("PORT", "3000")
	os.Exit(service.Main("web", port, os.Args[1:], os.Stderr, func(ctx context.Context, log *slog.Logger) error {
		h, err := web.Handler(service.Env("API_URL", "http://api:8080"), log)
		if err != nil {
			return err
		}
		return service.Serve(ctx, ":"+port, h, log)
	}))
}
