package main

import (
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// quietCompose routes the warnings compose-go logs (with logrus, in its
// own format: `time="…" level=warning msg="…"`) to w as wtenv's notes,
// each said once however often the compose file is loaded.
func quietCompose(w io.Writer) {
	logrus.SetOutput(w)
	logrus.SetFormatter(&onceFormatter{seen: map[string]bool{}})
}

type onceFormatter struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (f *onceFormatter) Format(e *logrus.Entry) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[e.Message] {
		return nil, nil
	}
	f.seen[e.Message] = true
	return []byte("wtenv: note: " + e.Message + "\n"), nil
}
