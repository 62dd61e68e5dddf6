package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/worktree"
)

var initCmd = command{
	name:    "init",
	args:    "claude|cursor|codex|conductor",
	summary: "register wtenv with an agent host: add it to the file that host reads in this worktree, keeping what is there",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		dryRun := fs.Bool("dry-run", false, "print the file as it would be written, and write nothing")
		return func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%w: init takes one host: %s", errUsage, hostNames())
			}
			h, ok := findHost(args[0])
			if !ok {
				return fmt.Errorf("%w: unknown host %q: use %s", errUsage, args[0], hostNames())
			}
			dir, err := g.worktreeDir()
			if err != nil {
				return err
			}
			wt, err := worktree.Open(dir)
			if err != nil {
				return err
			}
			return registerHost(g.stdout, h, wt.Root, *dryRun)
		}
	},
}

// host is an agent host wtenv registers with: the file it reads, relative
// to the worktree root, and how wtenv's entry merges into what the file
// already holds.
type host struct {
	name    string
	product string
	file    string
	// does says what the host does once the file is written.
	does string
	// merge returns the file with wtenv's entry; old is nil when the file
	// does not exist. It never drops an entry or key it does not own.
	merge func(root string, old []byte) (merged, error)
	// next is what the user may still have to do in the host.
	next string
}

// merged is a host file with wtenv's entry merged in.
type merged struct {
	data []byte
	// changed is false when the file already held the entry as wtenv
	// writes it: it is left alone, byte for byte.
	changed bool
	// notes name each change beyond adding wtenv's entry: an entry
	// replaced, a script appended to, a layout not kept.
	notes []string
}

var hosts = []host{{
	name: "claude", product: "Claude Code", file: ".mcp.json",
	does:  `Claude Code starts the MCP server "wtenv" with ` + "`wtenv serve`" + ` in this project`,
	merge: mergeMCPJSON(true),
	next:  "Claude Code asks once to approve the project's servers in .mcp.json; /mcp shows them",
}, {
	name: "cursor", product: "Cursor", file: ".cursor/mcp.json",
	does:  `Cursor starts the MCP server "wtenv" with ` + "`wtenv serve`" + ` in this project`,
	merge: mergeMCPJSON(false),
	next:  "Cursor lists it under its MCP settings, where it can be switched on if it is off",
}, {
	name: "codex", product: "Codex", file: ".codex/config.toml",
	does:  `Codex starts the MCP server "wtenv" with ` + "`wtenv serve`" + fmt.Sprintf(`, waiting up to %d s for a tool call`, codexToolTimeout),
	merge: mergeCodex,
	next:  "Codex reads a project's .codex/config.toml only once the project is trusted; /mcp shows the server",
}, {
	name: "conductor", product: "Conductor", file: ".conductor/settings.toml",
	does:  "Conductor runs `wtenv up` when it creates a workspace and `wtenv down --purge` when it archives one",
	merge: mergeConductor,
	next:  "commit the file so every workspace of the repository gets it; the stack publishes on CONDUCTOR_PORT's ports when it fits in them",
}}

func findHost(name string) (host, bool) {
	for _, h := range hosts {
		if h.name == name {
			return h, true
		}
	}
	return host{}, false
}

func hostNames() string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// registerHost merges wtenv's entry into h's file under root and says
// what it did. A file that does not parse is left as it is.
func registerHost(w io.Writer, h host, root string, dryRun bool) error {
	path := filepath.Join(root, filepath.FromSlash(h.file))
	// A linked file (a shared .mcp.json) is updated where it lives, not
	// replaced by a copy.
	target := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	}
	old, err := os.ReadFile(target)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	m, err := h.merge(root, old)
	if pe, ok := errors.AsType[*parseError](err); ok {
		if pe.file == "" {
			pe.file = path
		}
		return pe
	}
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was written", path, err)
	}
	verb := "created"
	switch {
	case exists && !m.changed:
		verb = "unchanged"
	case exists:
		verb = "updated"
	}
	if dryRun {
		fmt.Fprintf(w, "%s would be %s (dry run, nothing written):\n%s", path, verb, m.data)
		if len(m.data) > 0 && m.data[len(m.data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	} else if verb != "unchanged" {
		if err := writeAtomic(target, m.data); err != nil {
			return err
		}
	}
	if !dryRun {
		fmt.Fprintf(w, "%s %s: %s\n", verb, path, h.does)
	}
	for _, n := range m.notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintf(w, "  next: %s\n", h.next)
	return nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory and a rename, so a reader never sees half a file, and keeps
// the mode of the file it replaces.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".wtenv-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// parseError is a host file that exists and does not parse: nothing is
// written, and the message names the file, line and column.
type parseError struct {
	file      string
	line, col int
	msg       string
}

func (e *parseError) Error() string {
	at := e.file
	if e.line > 0 {
		at = fmt.Sprintf("%s:%d:%d", e.file, e.line, e.col)
	}
	return fmt.Sprintf("%s: %s; fix the file (nothing was written)", at, e.msg)
}

// Unwrap makes it a configuration error (exit 3).
func (e *parseError) Unwrap() error { return compose.ErrInvalidConfig }

// lineCol is the 1-based line and column of a byte offset in data.
func lineCol(data []byte, offset int) (int, int) {
	offset = min(max(offset, 0), len(data))
	line := 1 + strings.Count(string(data[:offset]), "\n")
	col := offset - strings.LastIndexByte(string(data[:offset]), '\n')
	return line, col
}
