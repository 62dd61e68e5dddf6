package main

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"strings"
	"testing"
)

// `wtenv test unit [flags] -- ARGS`: everything after -- goes to the
// suite's command, flags-looking arguments included.
func TestSuiteArgsAfterDoubleDash(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	filter := fs.String("filter", "", "")
	pos, err := parseInterleaved(fs, []string{"unit", "-filter", "Orders", "--", "-count=1", "-filter", "x"})
	if err != nil {
		t.Fatal(err)
	}
	suite, extra, err := suiteArgs(pos)
	if err != nil || suite != "unit" || *filter != "Orders" || !slices.Equal(extra, []string{"-count=1", "-filter", "x"}) {
		t.Errorf("suite %q, filter %q, extra %q, err %v", suite, *filter, extra, err)
	}
	for _, bad := range [][]string{{}, {"--", "-v"}, {"unit", "e2e"}} {
		if _, _, err := suiteArgs(bad); err == nil {
			t.Errorf("%q: no usage error", bad)
		}
	}
}

// --version prints the version; commands that act on no one worktree
// take no --worktree.
func TestVersionAndWorktreeFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, nil, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "wtenv ") {
		t.Errorf("--version: exit %d, %q", code, out.String())
	}
	for _, cmd := range []string{"ls", "gc", "engines", "demo"} {
		errb.Reset()
		if code := run(context.Background(), []string{cmd, "--help"}, nil, &out, &errb); code != exitOK || strings.Contains(errb.String(), "-worktree") {
			t.Errorf("%s --help: exit %d, lists -worktree:\n%s", cmd, code, errb.String())
		}
	}
	errb.Reset()
	if run(context.Background(), []string{"status", "--help"}, nil, &out, &errb); !strings.Contains(errb.String(), "-worktree") {
		t.Errorf("status --help lacks -worktree:\n%s", errb.String())
	}
}
