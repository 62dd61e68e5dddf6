package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/runner"
)

// The demo is the best end-to-end test there is: two stacks of the example
// shop at once, distinct ports, isolation proven, both suites green in both
// worktrees, and nothing left behind.
func TestDemo(t *testing.T) {
	enginetest.Full(t)
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	code, out, stderr := cli(t, "demo")
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, tail(stderr, 40))
	}
	// Two layouts, each with both stacks running under distinct names.
	stacks := regexp.MustCompile(`(?m)^stack (\S+) \(branch (\S+)\): running`).FindAllStringSubmatch(out, -1)
	if len(stacks) != 4 || stacks[0][1] == stacks[1][1] {
		t.Fatalf("want two running stacks with distinct names in each layout:\n%s", out)
	}
	for _, want := range []string{
		"layout: separate", "layout: shared",
		"ports: distinct",
		"isolation: proven",
		"worker completed order",
		`container_name "shop-db" rewritten to "` + stacks[0][1] + `-shop-db"`,
		"db is shared by 2 worktrees",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "isolation: proven"); n != 2 {
		t.Errorf("isolation proven in %d layouts, want 2:\n%s", n, out)
	}
	mem := regexp.MustCompile(`(?m)^memory of the two stacks: (\S+) with a Postgres each, (\S+) sharing one`).FindStringSubmatch(out)
	if mem == nil {
		t.Errorf("no memory comparison of the layouts:\n%s", out)
	}
	for _, suite := range []string{"unit", "e2e"} {
		if n := len(regexp.MustCompile(`(?m)^tests `+suite+` in \S+: passed, [1-9]\d* passed, 0 failed`).FindAllString(out, -1)); n != 2 {
			t.Errorf("%s suite passed in %d worktrees, want 2:\n%s", suite, n, out)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^down \S+: removed 4 containers, 1 networks, 1 volumes`).FindAllString(out, -1)); n != 2 {
		t.Errorf("want both stacks removed:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^worktrees: (\S+) \(main\), (\S+) \(`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no worktrees line:\n%s", out)
	}
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	// The worktrees, and the repository's git directory: the shared
	// stack's worktree label.
	for _, root := range []string{m[1], m[2], filepath.Join(m[1], ".git")} {
		if _, err := os.Stat(root); !os.IsNotExist(err) {
			t.Errorf("demo left %s behind", root)
		}
		f := client.Filters{}.Add("label", "dev.wtenv.worktree="+root)
		cs, _ := api.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		ns, _ := api.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
		vs, _ := api.VolumeList(context.Background(), client.VolumeListOptions{Filters: f})
		if len(cs.Items)+len(ns.Items)+len(vs.Items) != 0 {
			t.Errorf("demo left resources of %s: %d containers, %d networks, %d volumes", root, len(cs.Items), len(ns.Items), len(vs.Items))
		}
	}
}

// wtenv test runs the example's suites through the CLI: exit 0 when green,
// 1 with the failure named when a test breaks.
func TestCLITestCommandOnTheExample(t *testing.T) {
	enginetest.Full(t)
	root := enginetest.ExampleWorktrees(t)[0]
	code, out, stderr := cli(t, "test", "e2e", "--json", "--worktree", root)
	var run runner.TestRun
	if code != exitOK || json.Unmarshal([]byte(out), &run) != nil || !run.Passed || run.Counts.Passed == 0 {
		t.Fatalf("test e2e: exit %d %+v\n%s", code, run, tail(stderr, 30))
	}
	broken := "//go:build e2e\n\npackage e2e\n\nimport \"testing\"\n\nfunc TestBrokenOnPurpose(t *testing.T) {\n\tt.Errorf(\"total = %d, want %d\", 4, 5)\n}\n"
	if err := os.WriteFile(filepath.Join(root, "e2e", "broken_test.go"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "test", "e2e", "--worktree", root)
	if code != exitFailure || !strings.Contains(out, "TestBrokenOnPurpose at e2e/broken_test.go:8") || !strings.Contains(out, "total = 4, want 5") {
		t.Errorf("broken e2e: exit %d\n%s", code, out)
	}
	cli(t, "down", "--purge", "--worktree", root)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
