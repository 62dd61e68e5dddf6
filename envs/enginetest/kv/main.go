// Command kv is the test fixture service: a tiny HTTP key-value store that
// keeps each key in a file under DATA_DIR, so tests can prove that a stack
// has its own data and that a named volume keeps it. With UPSTREAM_URL set
// it forwards /kv/ requests there, which proves service-name DNS on the
// stack's network. `kv health` is its own healthcheck probe, since the image
// has nothing but this binary, `kv exit N` a one-shot job, and `kv hold
// MiB SECONDS` a test run that holds memory.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	port := env("PORT", "8080")
	if len(os.Args) > 2 && os.Args[1] == "exit" {
		// A one-shot service's whole work, for tests: exit with a code.
		code, _ := strconv.Atoi(os.Args[2])
		os.Exit(code)
	}
	if len(os.Args) > 3 && os.Args[1] == "hold" {
		// A test run's container that holds memory for a while, for tests
		// of the memory budget: kv hold MiB SECONDS.
		mib, _ := strconv.Atoi(os.Args[2])
		secs, _ := strconv.Atoi(os.Args[3])
		b := make([]byte, mib<<20)
		for i := range b {
			b[i] = byte(i)
		}
		time.Sleep(time.Duration(secs) * time.Second)
		fmt.Println(len(b) >> 20)
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == "health" {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://127.0.0.1:" + port + "/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "unhealthy", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir := env("DATA_DIR", "/data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	if up := os.Getenv("UPSTREAM_URL"); up != "" {
		u, err := url.Parse(up)
		if err != nil {
			log.Fatal(err)
		}
		mux.Handle("/kv/", httputil.NewSingleHostReverseProxy(u))
	} else {
		mux.HandleFunc("/kv/", func(w http.ResponseWriter, r *http.Request) { store(w, r, dir) })
	}
	log.Printf("kv listening on :%s, data in %s", port, dir)
	log.Fatal(http.ListenAndServe(":"+port, mux))
}

func store(w http.ResponseWriter, r *http.Request, dir string) {
	key := strings.TrimPrefix(r.URL.Path, "/kv/")
	if key == "" || strings.ContainsAny(key, "/\\") || strings.HasPrefix(key, ".") {
		http.Error(w, "bad key", http.StatusBadRequest)
		return
	}
	path := filepath.Join(dir, key)
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		log.Printf("stored %s", key)
	case http.MethodGet:
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
