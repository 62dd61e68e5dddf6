package forward

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func body(u string) (string, error) {
	// A connection of its own each time: one kept alive would stay with
	// the target it was relayed to.
	c := http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A forwarded port relays to its target; a changed target is followed; a
// port dropped from the set stops answering; a port held by another
// process is reported and the others still forward.
func TestForwarder(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "a") }))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "b") }))
	defer b.Close()
	port := freePort(t)
	u := fmt.Sprintf("http://127.0.0.1:%d/", port)
	var f Forwarder
	defer f.Close()
	if err := f.Set(map[int]string{port: a.Listener.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	if got, err := body(u); got != "a" {
		t.Fatalf("through the forward: %q %v", got, err)
	}
	f.Set(map[int]string{port: b.Listener.Addr().String()})
	if got, err := body(u); got != "b" {
		t.Fatalf("after the target changed: %q %v", got, err)
	}
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	heldPort := held.Addr().(*net.TCPAddr).Port
	err = f.Set(map[int]string{port: b.Listener.Addr().String(), heldPort: a.Listener.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(heldPort)) {
		t.Errorf("a port held elsewhere: %v", err)
	}
	if got, _ := body(u); got != "b" {
		t.Errorf("the other port stopped forwarding: %q", got)
	}
	f.Set(nil)
	if _, err := body(u); err == nil {
		t.Error("a dropped port still answers")
	}
}
