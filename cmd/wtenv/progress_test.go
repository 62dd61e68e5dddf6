package main

import (
	"bytes"
	"strings"
	"testing"
)

// Not a terminal: one line per real change; a repeated count and the
// heartbeats that only say a suite runs are left out.
func TestProgressOneLinePerChange(t *testing.T) {
	var b bytes.Buffer
	v := newProgressView(&b)
	for _, m := range []string{
		"creating network shop_default",
		"building tests",
		"building tests: [toolchain 1/5] FROM golang",
		"unit: 0 passed, 0 failed",
		"unit: 0 passed, 0 failed",
		"unit: running for 3s",
		"unit: 4 passed, 0 failed",
		"unit: 4 passed, 0 failed",
		"waiting for api: healthy 1/2",
		"waiting for api: healthy 1/2",
		"waiting for api: healthy 2/2",
	} {
		v.show(m)
	}
	want := "wtenv: creating network shop_default\nwtenv: building tests\nwtenv: building tests: [toolchain 1/5] FROM golang\nwtenv: unit: 0 passed, 0 failed\nwtenv: unit: 4 passed, 0 failed\nwtenv: waiting for api: healthy 1/2\nwtenv: waiting for api: healthy 2/2\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// On a terminal: a line per service with its latest step, rewritten in
// place; general messages print above the view.
func TestProgressLiveView(t *testing.T) {
	var b bytes.Buffer
	v := &progressView{w: &b, tty: true, width: 40, last: map[string]string{}}
	v.show("building api: [build 2/5] COPY go.mod ./")
	v.show("starting db")
	v.show("building api: [build 3/5] RUN go build ./... with a very long tail that is cut")
	v.show("creating network shop_default")
	// The screen: replay the escapes on a line model.
	var lines []string
	for _, part := range strings.SplitAfter(b.String(), "\n") {
		for strings.HasPrefix(part, "\x1b[") {
			end := strings.Index(part, "J")
			n := 0
			for _, c := range part[2:strings.Index(part, "A")] {
				n = n*10 + int(c-'0')
			}
			lines = lines[:len(lines)-n]
			part = part[end+1:]
		}
		if part != "" {
			lines = append(lines, strings.TrimSuffix(part, "\n"))
		}
	}
	want := []string{
		"wtenv: creating network shop_default",
		" building api: [build 3/5] RUN go buil…",
		" starting db",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestSubjectOf(t *testing.T) {
	for msg, want := range map[string]string{
		"building api":                         "api",
		"building web, api":                    "web",
		"building tests: [toolchain 3/5] COPY": "tests",
		"recreating api (db was recreated)":    "api",
		"waiting for db: healthy 0/1":          "db",
		"creating volume shop_data":            "",
		"e2e: 3 passed, 1 failed":              "e2e",
		"woke shop in 2.1s":                    "",
	} {
		if got := subjectOf(msg); got != want {
			t.Errorf("%q: %q, want %q", msg, got, want)
		}
	}
}
