//go:build e2e

// Package e2e drives a running shop stack through its public HTTP surface.
// It is behind the e2e build tag so that `go test ./...` stays a unit run
// needing no Docker; run it with
//
//	SHOP_API_URL=http://127.0.0.1:8080 SHOP_WEB_URL=http://127.0.0.1:3000 go test -tags e2e ./e2e/...
//
// or with `wtenv test e2e`, which runs it in the stack's network.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// order mirrors the API's JSON; the test does not import the server's types
// so that it checks the wire format.
type order struct {
	ID         int64  `json:"id"`
	Item       string `json:"item"`
	Qty        int    `json:"qty"`
	Status     string `json:"status"`
	TotalCents *int64 `json:"total_cents"`
	Error      string `json:"error"`
}

var client = &http.Client{Timeout: 10 * time.Second}

// baseURL returns the URL in the environment variable name. A missing
// SHOP_API_URL fails the test: the e2e tag was asked for, so a stack is
// expected, and a silent skip would report a green run that tested nothing.
func baseURL(t *testing.T, name string) string {
	t.Helper()
	u := strings.TrimRight(os.Getenv(name), "/")
	if u == "" {
		t.Fatalf("%s is not set: run the e2e suite with `wtenv test e2e`, or against a running stack with %s=http://127.0.0.1:PORT", name, name)
	}
	return u
}

func call(t *testing.T, method, url string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, url, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, data, err)
		}
	}
}

// waitDone polls the order until the worker has finished it.
func waitDone(t *testing.T, base string, id int64) order {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var o order
	for time.Now().Before(deadline) {
		call(t, "GET", fmt.Sprintf("%s/orders/%d", base, id), nil, http.StatusOK, &o)
		if o.Status != "pending" {
			return o
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("order %d still %q after 30s: is the worker running?", id, o.Status)
	return o
}

func TestHealth(t *testing.T) {
	call(t, "GET", baseURL(t, "SHOP_API_URL")+"/health", nil, http.StatusOK, nil)
}

func TestOrderIsPricedByWorker(t *testing.T) {
	base := baseURL(t, "SHOP_API_URL")
	var placed order
	call(t, "POST", base+"/orders", map[string]any{"item": "coffee", "qty": 3}, http.StatusCreated, &placed)
	if placed.ID <= 0 || placed.Status != "pending" || placed.Item != "coffee" || placed.Qty != 3 {
		t.Fatalf("placed order = %+v, want a pending coffee x3 with an id", placed)
	}
	done := waitDone(t, base, placed.ID)
	if done.Status != "done" || done.TotalCents == nil || *done.TotalCents != 1050 {
		t.Fatalf("order = %+v, want done with total_cents 1050 (3 x 350)", done)
	}

	var list []order
	call(t, "GET", base+"/orders", nil, http.StatusOK, &list)
	found := false
	for _, o := range list {
		found = found || o.ID == placed.ID
	}
	if !found {
		t.Fatalf("GET /orders does not list order %d", placed.ID)
	}
}

func TestManyOrdersAllDone(t *testing.T) {
	base := baseURL(t, "SHOP_API_URL")
	want := map[int64]int64{}
	for i, item := range []string{"apple", "banana", "notebook", "pen", "apple"} {
		var o order
		call(t, "POST", base+"/orders", map[string]any{"item": item, "qty": i + 1}, http.StatusCreated, &o)
		price := map[string]int64{"apple": 50, "banana": 25, "notebook": 275, "pen": 120}[item]
		want[o.ID] = price * int64(i+1)
	}
	for id, total := range want {
		o := waitDone(t, base, id)
		if o.Status != "done" || *o.TotalCents != total {
			t.Errorf("order %d = %+v, want done with %d", id, o, total)
		}
	}
}

func TestInvalidOrderRejected(t *testing.T) {
	base := baseURL(t, "SHOP_API_URL")
	var e struct{ Error string }
	call(t, "POST", base+"/orders", map[string]any{"item": "caviar", "qty": 1}, http.StatusBadRequest, &e)
	if !strings.Contains(e.Error, "unknown item") {
		t.Fatalf("error = %q, want it to name the unknown item", e.Error)
	}
	call(t, "GET", base+"/orders/999999999", nil, http.StatusNotFound, nil)
}

func TestWebServesPageAndProxiesAPI(t *testing.T) {
	web := os.Getenv("SHOP_WEB_URL")
	if web == "" {
		t.Skip("SHOP_WEB_URL is not set; the web checks need the web service's URL")
	}
	web = strings.TrimRight(web, "/")
	res, err := client.Get(web + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`fetch("/api"`)) {
		t.Fatalf("GET %s/ = %d; the page should call /api", web, res.StatusCode)
	}

	var placed, viaAPI order
	call(t, "POST", web+"/api/orders", map[string]any{"item": "pen", "qty": 2}, http.StatusCreated, &placed)
	call(t, "GET", fmt.Sprintf("%s/orders/%d", baseURL(t, "SHOP_API_URL"), placed.ID), nil, http.StatusOK, &viaAPI)
	if viaAPI.Item != "pen" || viaAPI.Qty != 2 {
		t.Fatalf("order placed through web = %+v, read back from api = %+v", placed, viaAPI)
	}
	if done := waitDone(t, web+"/api", placed.ID); *done.TotalCents != 240 {
		t.Fatalf("order through web = %+v, want total 240", done)
	}
}
