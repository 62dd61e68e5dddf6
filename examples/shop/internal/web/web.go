// Package web serves the shop's page and forwards /api/ to the API, so a
// browser needs only the web service's address.
package web

import (
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
)

//go:embed index.html
var page []byte

// Handler serves the page at /, a health check at /health, and proxies
// /api/X to apiURL/X.
func Handler(apiURL string, log *slog.Logger) (http.Handler, error) {
	target, err := url.Parse(apiURL)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("API URL %q must look like http://api:8080", apiURL)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Error("proxy to api", "path", r.URL.Path, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"error":"the API at %s is not reachable"}`+"\n", target.Host)
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", proxy))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"web":"ok"}`)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
	return mux, nil
}
