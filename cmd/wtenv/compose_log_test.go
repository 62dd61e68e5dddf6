package main

import (
	"bytes"
	"testing"

	"github.com/sirupsen/logrus"
)

// compose-go's warnings come out as wtenv's notes, once each.
func TestComposeWarningsOnce(t *testing.T) {
	var b bytes.Buffer
	quietCompose(&b)
	defer quietCompose(new(bytes.Buffer))
	logrus.Warn("the attribute `version` is obsolete")
	logrus.Warn("the attribute `version` is obsolete")
	logrus.Warn("another")
	if got := b.String(); got != "wtenv: note: the attribute `version` is obsolete\nwtenv: note: another\n" {
		t.Errorf("got %q", got)
	}
}
