package envs

import (
	"context"
	"errors"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/ports"
	"github.com/wtenv/wtenv/envs/state"
	"github.com/wtenv/wtenv/envs/worktree"
)

// Sentinel errors the front ends may check with errors.Is, re-exported so
// they need not import the sub-packages. Most callers want KindOf.
var (
	ErrNotWorktree = worktree.ErrNotWorktree
	ErrNoCompose   = compose.ErrNoComposeFile
	ErrUnsupported = compose.ErrUnsupported
	ErrUnreachable = engine.ErrUnreachable
	ErrImage       = engine.ErrImage
	ErrUnhealthy   = engine.ErrUnhealthy
	ErrRefused     = budget.ErrRefused
	// ErrUnknownService means a service name the compose file lacks.
	ErrUnknownService = errors.New("unknown service")
	// ErrTestsFailed means a suite ran and some of its tests failed. A run
	// returns it only where failing is an outcome to report as an error
	// (the CLI's exit code); as data it is TestRun.Passed == false.
	ErrTestsFailed = errors.New("tests failed")
	// ErrNoSuite means wtenv.yaml defines no test suite of that name.
	ErrNoSuite = errors.New("no such test suite")
	// ErrInvalidArguments means a command-line or tool-call mistake: an
	// unknown flag or argument, a value out of range.
	ErrInvalidArguments = errors.New("invalid arguments")
)

// Kind is the class of an error, the same for every front end: the CLI
// turns it into its exit code and MCP tools put it beside the message of
// an error result, so scripts and agents can act on it without reading
// the text.
type Kind string

// The kinds of error, as the README documents them for scripts; a new kind
// is an addition to that contract, a renamed one breaks it.
const (
	KindCancelled        Kind = "cancelled"          // the caller cancelled (Ctrl-C, MCP cancellation)
	KindInvalidArguments Kind = "invalid_arguments"  // a command-line or tool-call mistake
	KindTimedOut         Kind = "timed_out"          // a wait ran past its timeout
	KindBudgetRefused    Kind = "budget_refused"     // the memory budget has no room for the stack
	KindUnreachable      Kind = "engine_unreachable" // no Docker engine answered
	KindConfig           Kind = "bad_configuration"  // not a worktree, no or invalid compose file or wtenv.yaml, an unsupported key, a bad setting
	KindUnknownService   Kind = "unknown_service"    // a service name the compose file lacks
	KindTestsFailed      Kind = "tests_failed"       // a suite ran and tests failed
	KindImage            Kind = "image_unavailable"  // an image could be neither found, pulled nor built
	KindUnhealthy        Kind = "service_failed"     // a service exited or did not become healthy
	KindFailed           Kind = "failed"             // anything else
)

// KindOf classifies err; nil has no kind. When several apply, the one a
// caller can act on most directly wins: a cancellation or timeout first,
// then what is wrong with the configuration, then what went wrong running
// it.
func KindOf(err error) Kind {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return KindCancelled
	case errors.Is(err, ErrInvalidArguments):
		return KindInvalidArguments
	case errors.Is(err, engine.ErrTimedOut), errors.Is(err, context.DeadlineExceeded):
		return KindTimedOut
	case errors.Is(err, budget.ErrRefused):
		return KindBudgetRefused
	case errors.Is(err, engine.ErrUnreachable):
		return KindUnreachable
	case errors.Is(err, ErrUnknownService):
		return KindUnknownService
	case errors.Is(err, worktree.ErrNotWorktree), errors.Is(err, compose.ErrNoComposeFile),
		errors.Is(err, compose.ErrInvalidCompose), errors.Is(err, compose.ErrInvalidConfig),
		errors.Is(err, compose.ErrUnsupported), errors.Is(err, budget.ErrInvalidBudget), errors.Is(err, budget.ErrInvalidIdle),
		errors.Is(err, ports.ErrInvalidRange), errors.Is(err, state.ErrCorrupt),
		errors.Is(err, state.ErrNewerVersion), errors.Is(err, ErrNoSuite):
		return KindConfig
	case errors.Is(err, ErrTestsFailed):
		return KindTestsFailed
	case errors.Is(err, engine.ErrImage):
		return KindImage
	case errors.Is(err, engine.ErrUnhealthy):
		return KindUnhealthy
	default:
		return KindFailed
	}
}
