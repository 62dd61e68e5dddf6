package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/stack"
)

// The demo's layouts of the shop's database.
const (
	layoutSeparate = "separate" // a Postgres in each worktree's stack, as Compose runs it
	layoutShared   = "shared"   // one Postgres for all worktrees (share: [db]), a database each
)

var demoLayouts = map[string][]string{
	layoutSeparate: {layoutSeparate},
	layoutShared:   {layoutShared},
	"both":         {layoutSeparate, layoutShared},
}

// shareDatabase turns the switch in each worktree's wtenv.yaml: the shop's
// db service becomes shared.
func shareDatabase(roots []string) error {
	for _, root := range roots {
		path := filepath.Join(root, compose.ConfigFile)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("switching the example to a shared database: %w", err)
		}
		_, err = f.WriteString("share: [db]\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("switching the example to a shared database: %w", err)
		}
	}
	return nil
}

// layoutMemory is what the stacks hold, each shared service once.
func layoutMemory(stacks []stack.Stack) int64 {
	var total int64
	seen := map[string]bool{}
	for _, st := range stacks {
		total += st.MemoryBytes
		for _, s := range st.Services {
			if s.Shared != nil && !seen[s.Shared.Project+"/"+s.Name] {
				seen[s.Shared.Project+"/"+s.Name] = true
				total += s.Shared.ServerMemoryBytes
			}
		}
	}
	return total
}
