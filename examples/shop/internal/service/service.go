// Package service is what the shop's three programs share: reading settings
// from the environment, serving HTTP until told to stop, and the `health`
// subcommand their container healthchecks run (the images are FROM scratch,
// so there is no curl or shell to probe with).
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Env returns the environment variable name, or def when it is unset or empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Main runs a program: with no arguments run, with `health` a probe of
// http://127.0.0.1:port/health. It returns the exit code. SIGINT and SIGTERM
// cancel run's context; the program is PID 1 in its container, where the
// kernel would otherwise ignore SIGTERM and docker stop would wait 10 s.
func Main(name, port string, args []string, stderr io.Writer, run func(ctx context.Context, log *slog.Logger) error) int {
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("service", name)
	switch {
	case len(args) == 0:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := run(ctx, log); err != nil {
			log.Error("exit", "err", err)
			return 1
		}
		return 0
	case len(args) == 1 && args[0] == "health":
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := Check(ctx, "http://"+net.JoinHostPort("127.0.0.1", port)+"/health"); err != nil {
			fmt.Fprintf(stderr, "%s: unhealthy: %v\n", name, err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "usage: %s [health]\n", name)
		return 2
	}
}

// Check GETs url and reports an error unless the answer is 200.
func Check(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, res.Status, body)
	}
	return nil
}

// Serve serves h on addr until ctx is cancelled, then shuts down gracefully.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
