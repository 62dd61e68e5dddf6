package envs

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
)

// RunOneOff runs a one-off container of one of the stack's services (for
// test suites), on the stack's networks with the worktree mounted, and
// returns its exit code. See engine.RunOneOff. What the stack holds with
// the container is sampled for the memory budget (watchMemory).
func (e *Env) RunOneOff(ctx context.Context, opts engine.RunOptions) (int, error) {
	_ = e.follow(ctx) // a read of the state file; what fails there fails below too
	p, err := e.oneOffProject(ctx, opts.Service)
	if err != nil {
		return -1, err
	}
	if !e.Local() {
		// The engine cannot see this machine's files: the worktree and
		// the folders bound from it are copies, refreshed now.
		ms, err := e.mirrorMounts(ctx, p)
		if err != nil {
			return -1, err
		}
		if opts.Mount == "" {
			m, err := e.mountMirror(p, opts.Service)
			if err != nil {
				return -1, err
			}
			ms = append(ms, m)
		}
		if err := e.refresh(ctx, p, ms, opts.Progress); err != nil {
			return -1, err
		}
	} else if opts.Mount == "" {
		opts.Mount = e.Worktree.Root
	}
	defer e.watchMemory(ctx)()
	return e.engine().RunOneOff(ctx, p, e.meta(p), opts)
}

// oneOffProject loads the isolated project for a one-off run of service.
// Check looked at the services up starts; a test service under another
// profile gets the same scrutiny here.
func (e *Env) oneOffProject(ctx context.Context, service string) (*types.Project, error) {
	p, cfg, _, err := e.load(ctx)
	if err != nil {
		return nil, err
	}
	if s, ok := p.DisabledServices[service]; ok {
		if err := compose.CheckService(s, cfg); err != nil {
			return nil, err
		}
	}
	// The shared services joined the stack's networks at its up; the
	// one-off reaches them there, under the worktree's database names.
	_, err = e.shareLocal(p, cfg)
	return p, err
}
