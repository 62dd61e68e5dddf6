package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/wtenv/wtenv/envs"
)

// Exit codes. DESIGN.md fixes 0, 1 (failures, a refusal by the budget and
// failing tests among them) and 2; the others tell a script what kind of
// failure it was, from envs.KindOf. The README lists them.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitConfig      = 3
	exitUnreachable = 4
	exitTimedOut    = 124 // as timeout(1)
	exitInterrupted = 130 // as a shell reports SIGINT
	exitTerminated  = 143 // as a shell reports SIGTERM
)

// errUsage marks a command-line mistake: exit code 2.
var errUsage = envs.ErrInvalidArguments

// exitCode is the exit code of a command's error.
func exitCode(err error) int {
	if code, ok := errors.AsType[exitWith](err); ok {
		return code.code
	}
	switch envs.KindOf(err) {
	case "":
		return exitOK
	case envs.KindInvalidArguments, envs.KindUnknownService:
		return exitUsage
	case envs.KindConfig:
		return exitConfig
	case envs.KindUnreachable:
		return exitUnreachable
	case envs.KindTimedOut:
		return exitTimedOut
	case envs.KindCancelled:
		if sig, ok := interruptedBy.Load().(os.Signal); ok {
			return signalCode(sig)
		}
		return exitInterrupted
	default:
		return exitFailure
	}
}

// interruptedBy is the signal that interrupted the command, if one did.
var interruptedBy atomic.Value

// signalCode is the exit code a shell reports for a process the signal
// ended: 130 for SIGINT, 143 for SIGTERM.
func signalCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// command is one subcommand: its flags are defined on fs by setup, and run
// gets the positional arguments.
type command struct {
	name    string
	args    string // positional arguments, for help
	summary string
	// anyWorktree is set on the commands that act on no one worktree
	// (ls, gc, engines, demo): they take no --worktree.
	anyWorktree bool
	setup       func(fs *flag.FlagSet, g *globals) func(ctx context.Context, args []string) error
}

// globals are the flags every data command shares.
type globals struct {
	worktree string
	json     bool
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	viewOnce sync.Once
	view     *progressView
}

func commands() []command {
	return []command{serveCmd, upCmd, statusCmd, sleepCmd, downCmd, logsCmd, testCmd, envCmd, configCmd, lsCmd, enginesCmd, forwardCmd, gcCmd, initCmd, demoCmd}
}

// run is the whole CLI: it parses args, runs one command and returns the
// exit code. main only wires the process to it, so tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintf(stdout, "wtenv %s\n", envs.Version)
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "wtenv: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	quietCompose(stderr)
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("wtenv "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if !cmd.anyWorktree {
		fs.StringVar(&g.worktree, "worktree", "", "the worktree to act on (default: the current directory)")
	}
	action := cmd.setup(fs, g)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: wtenv %s [flags] %s\n\n%s\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if err := action(ctx, pos); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "wtenv %s: %v\n", cmd.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
			fs.Usage()
			return exitUsage
		}
		fmt.Fprintf(stderr, "wtenv %s: %v\n", cmd.name, err)
		return exitCode(err)
	}
	return exitOK
}

// parseInterleaved lets flags follow positional arguments
// (`wtenv logs api --tail 5`), which the flag package alone does not.
// Everything after a "--" is positional as it stands, the "--" kept, so a
// command can pass it on (`wtenv test unit -- -count=1`).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i:]
	}
	pos, err := parseFlags(fs, args)
	return append(pos, tail...), err
}

func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wtenv runs an isolated copy of this git worktree's Docker Compose stack.")
	fmt.Fprintln(w, "\nusage: wtenv <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --worktree DIR (default: the current directory); data commands take --json.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure (failing tests, a full memory budget, a service that failed), 2 usage,")
	fmt.Fprintln(w, "3 configuration (no worktree, no or invalid compose file or wtenv.yaml), 4 Docker engine unreachable,")
	fmt.Fprintln(w, "124 timed out, 130 interrupted. Run `wtenv <command> -h` for its flags.")
}

// worktreeDir is the directory the command acts on.
func (g *globals) worktreeDir() (string, error) {
	if g.worktree != "" {
		return g.worktree, nil
	}
	return os.Getwd()
}

// progress shows step messages on stderr, keeping stdout for results: a
// live view on a terminal, one line per real change elsewhere.
func (g *globals) progress(msg string) {
	g.viewOnce.Do(func() { g.view = newProgressView(g.stderr) })
	g.view.show(msg)
}

// emit writes v as indented JSON when --json is set, else calls human.
func (g *globals) emit(v any, human func(w io.Writer)) error {
	if g.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(g.stdout)
	return nil
}
