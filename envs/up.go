package envs

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// UpOptions are the arguments of Up.
type UpOptions struct {
	Services []string      // only these and their dependencies; empty: all
	Build    bool          // rebuild images of build: services
	Timeout  time.Duration // health wait; 0: 5 minutes
	// TimeoutFlag names what sets Timeout in the front end (--timeout,
	// timeout_s), for the message that suggests raising it.
	TimeoutFlag string
	Progress    func(string) // step messages; may be nil
}

// Up brings the worktree's stack up, isolated: its own project name, host
// port block, container names, networks and volumes. It is idempotent.
func (e *Env) Up(ctx context.Context, opts UpOptions) (stack.Stack, error) {
	unlock, err := e.lockProject(ctx)
	if err != nil {
		return stack.Stack{}, err
	}
	defer unlock()
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if err := e.placeFor(ctx, progress); err != nil {
		return stack.Stack{}, err
	}
	p, cfg, isolated, err := e.load(ctx)
	if err != nil {
		return stack.Stack{}, err
	}
	if err := knownServices(p, opts.Services...); err != nil {
		return stack.Stack{}, err
	}
	for _, name := range opts.Services {
		if s, ok := p.DisabledServices[name]; ok && !compose.Starts(s) {
			return stack.Stack{}, fmt.Errorf("%w: service %q is scaled to zero (deploy.replicas or scale is 0), so up starts no container for it; set it to 1 to run it", ErrInvalidArguments, name)
		}
	}
	asleep, since, err := e.wasAsleep(ctx)
	if err != nil {
		return stack.Stack{}, err
	}
	adm, err := e.admit(ctx, p, progress)
	if err != nil {
		return stack.Stack{}, err
	}
	evicted, err := e.evict(ctx, adm.victims, progress)
	if err != nil {
		_ = e.release(context.WithoutCancel(ctx))
		return stack.Stack{}, err
	}
	if len(evicted) > 0 {
		// A shared server whose worktrees were all put to sleep sleeps
		// too; this stack, under way, keeps its own running.
		if err := settle(ctx, e.engine(), e.slot(), e.store, ""); err != nil {
			progress("shared services: " + err.Error())
		}
	}
	wakeStart := time.Now()
	if asleep {
		progress(fmt.Sprintf("waking %s (asleep for %s)", e.Project, time.Since(since).Round(time.Second)))
	}
	join, notes, spares, err := e.shareUp(ctx, p, cfg, opts, progress)
	if err != nil {
		_ = e.release(context.WithoutCancel(ctx))
		return stack.Stack{}, err
	}
	defer spares()
	isolated.Warnings = append(isolated.Warnings, notes...)
	services := slices.DeleteFunc(slices.Clone(opts.Services), func(s string) bool { return slices.Contains(sharedNames(cfg), s) })
	if len(services) == 0 && len(opts.Services) > 0 {
		// Only shared services were asked for: they run.
		_ = e.release(context.WithoutCancel(ctx))
		st, err := e.status(ctx, p, sharedNames(cfg))
		st.Warnings = append(slices.Clone(isolated.Warnings), st.Warnings...)
		return st, err
	}
	ms, err := e.mirrorMounts(ctx, p)
	if err == nil {
		err = e.refresh(ctx, p, ms, progress)
	}
	if err != nil {
		_ = e.release(context.WithoutCancel(ctx))
		return stack.Stack{}, err
	}
	if err := e.engine().Up(ctx, p, e.meta(p), engine.UpOptions{
		Services:    services,
		Build:       opts.Build,
		Timeout:     opts.Timeout,
		TimeoutFlag: opts.TimeoutFlag,
		Progress:    opts.Progress,
		BeforeStart: join,
	}); err != nil {
		// What it created is measured while it runs; the reservation goes.
		_ = e.release(context.WithoutCancel(ctx))
		return stack.Stack{}, err
	}
	if err := e.started(ctx); err != nil {
		return stack.Stack{}, err
	}
	var report *stack.Admission
	if asleep || len(evicted) > 0 {
		report = &stack.Admission{Woke: asleep, Evicted: evicted}
		if asleep {
			report.WakeMS = time.Since(wakeStart).Milliseconds()
			progress(fmt.Sprintf("woke %s in %.1fs", e.Project, time.Since(wakeStart).Seconds()))
		}
	}
	st, err := e.status(ctx, p, sharedNames(cfg))
	st.Warnings, st.Admission = append(slices.Clone(isolated.Warnings), st.Warnings...), report
	return st, err
}

// load reads the compose project, rejects what the engine cannot run, and
// isolates it: project name, host ports from the project's block,
// container names, network and volume names. It returns wtenv.yaml as it
// read it.
func (e *Env) load(ctx context.Context) (*types.Project, compose.Config, compose.Result, error) {
	cfg, err := e.Config()
	if err != nil {
		return nil, cfg, compose.Result{}, err
	}
	p, err := compose.Load(ctx, e.Worktree.Root, cfg, e.Project)
	if err != nil {
		return nil, cfg, compose.Result{}, err
	}
	if err := compose.Check(p, cfg); err != nil {
		return nil, cfg, compose.Result{}, err
	}
	hostPorts, note, err := e.assignPortsNoted(ctx, compose.Published(p))
	if err != nil {
		return nil, cfg, compose.Result{}, err
	}
	unnameShared(p, cfg)
	if !e.engine().Host().Local {
		bindAll(p)
	}
	res, err := compose.Isolate(p, e.Project, hostPorts, e.Worktree.Root)
	if note.Warning != "" {
		res.Warnings = append(res.Warnings, note.Warning)
	}
	return p, cfg, res, err
}

func (e *Env) meta(p *types.Project) engine.Meta {
	return engine.Meta{
		Project:     e.Project,
		Worktree:    e.Worktree.Root,
		Branch:      e.Worktree.Branch,
		ConfigFiles: strings.Join(p.ComposeFiles, ","),
		ProjectDir:  p.WorkingDir,
		Version:     Version,
		Host:        e.machine,
	}
}

// Status reports the worktree's stack. It works without a loadable compose
// file; with one, services that should run but have no container show as
// missing.
func (e *Env) Status(ctx context.Context) (stack.Stack, error) {
	_ = e.follow(ctx) // a read of the state file; what fails there fails below too
	var warnings []string
	// The rewrites isolation makes are said by up and config, not again
	// on every status.
	p, cfg, _ := e.loadForStatus(ctx)
	if f, ferr := e.store.Read(ctx); ferr == nil {
		if pr, ok := f.Projects[e.Project]; ok && pr.PortsMoved != "" {
			warnings = append(warnings, pr.PortsMoved)
		}
	}
	st, err := e.status(ctx, p, sharedNames(cfg))
	st.Warnings = append(warnings, st.Warnings...)
	return st, err
}

// loadForStatus loads the compose project, and wtenv.yaml, when it can;
// status works without them.
func (e *Env) loadForStatus(ctx context.Context) (*types.Project, compose.Config, error) {
	cfg, err := e.Config()
	if err != nil {
		return nil, cfg, err
	}
	p, err := compose.Load(ctx, e.Worktree.Root, cfg, e.Project)
	if err == nil {
		unnameShared(p, cfg)
	}
	return p, cfg, err
}

// status assembles the Stack; shared names the services wtenv.yaml
// shares, shown from the shared stack.
func (e *Env) status(ctx context.Context, p *types.Project, shared []string) (stack.Stack, error) {
	var expected []string
	if p != nil {
		expected = slices.DeleteFunc(p.ServiceNames(), func(s string) bool { return slices.Contains(shared, s) })
	} else {
		shared = nil
	}
	// One snapshot gives both this stack and the budget's view of all.
	eng := e.engine()
	snap, err := eng.Snapshot(ctx, e.scope())
	if err != nil && e.pool != nil && down(err) {
		// Its engine does not answer: what it holds there is unknown,
		// not gone.
		return stack.Stack{Project: e.Project, Worktree: e.Worktree.Root, Branch: e.Worktree.Branch,
			State: stack.StateUnreachable, Engine: e.EngineRef(), Services: []stack.Service{},
			Warnings: []string{err.Error()}}, nil
	}
	if err != nil {
		return stack.Stack{}, fmt.Errorf("status of %s: %w", e.Project, err)
	}
	st := stackOf(snap, e.scope(), eng.Host(), expected)
	st.Worktree, st.Branch, st.Engine = e.Worktree.Root, e.Worktree.Branch, e.EngineRef()
	f, err := e.observe(ctx, st.MemoryBytes)
	if err != nil {
		return st, err
	}
	var note string
	st.State, note = sleepState(st.State, f.Projects[e.Project], e.store.Busy(e.Project))
	if note != "" {
		st.Warnings = []string{note}
	}
	e.addShared(&st, snap, f, shared)
	st.Budget, err = budgetSummary(ctx, eng, e.slot(), e.store, f, snap)
	return st, err
}

// Down removes the worktree's stack; purge also removes its volumes and
// built images and forgets its port block.
func (e *Env) Down(ctx context.Context, purge bool) (stack.Down, error) {
	unlock, err := e.lockProject(ctx)
	if err != nil {
		return stack.Down{}, err
	}
	defer unlock()
	_ = e.follow(ctx)
	r, err := e.engine().Down(ctx, e.scope(), purge)
	out := stack.Down{Project: e.Project, Removed: stack.Removed{Containers: r.Containers, Networks: r.Networks, Volumes: r.Volumes, Images: r.Images}}
	if err != nil {
		return out, err
	}
	if purge {
		e.forgetMirrors()
		err = e.releasePorts(ctx)
	} else {
		err = e.store.Update(ctx, func(f *state.File) error {
			if p := f.Projects[e.Project]; p != nil {
				p.Reserved, p.Starting, p.UpdatedAt = 0, false, time.Now().UTC()
				awake(p)
			}
			return nil
		})
	}
	if err != nil {
		return out, err
	}
	// The shared services it used: its databases go with a purge, and a
	// server no worktree's stack uses goes.
	return out, settle(ctx, e.engine(), e.slot(), e.store, e.Project)
}

// Logs returns the last tail lines of every service, or of one, in the
// Logs shape that the CLI's --json and env_logs both return.
func (e *Env) Logs(ctx context.Context, service string, tail int) (stack.Logs, error) {
	_ = e.follow(ctx) // a read of the state file; what fails there fails below too
	out := stack.Logs{Project: e.Project, Service: service, Tail: tail}
	if service != "" {
		// A name the compose file does not have is a typo, not a service
		// that has not started: say so, with the names it does have.
		if p, _, err := e.loadForStatus(ctx); err == nil {
			if err := knownServices(p, service); err != nil {
				return out, err
			}
		}
	}
	var err error
	out.Text, err = e.engine().Logs(ctx, e.scope(), service, tail)
	return out, err
}

// StreamLogs writes the stack's logs to w as opts says: interleaved by
// time, from a time on (Since), and with Follow until ctx ends.
func (e *Env) StreamLogs(ctx context.Context, opts engine.LogOptions, w io.Writer) error {
	_ = e.follow(ctx) // a read of the state file; what fails there fails below too
	if opts.Service != "" {
		if p, _, err := e.loadForStatus(ctx); err == nil {
			if err := knownServices(p, opts.Service); err != nil {
				return err
			}
		}
	}
	s, ok := e.engine().(interface {
		StreamLogs(context.Context, engine.Scope, engine.LogOptions, io.Writer) error
	})
	if !ok {
		return fmt.Errorf("the engine %s cannot follow logs; use wtenv logs without -f or --since", e.EngineRef().Name)
	}
	return s.StreamLogs(ctx, e.scope(), opts, w)
}

// knownServices checks that every name is a service of the compose file,
// enabled or under a profile.
func knownServices(p *types.Project, names ...string) error {
	all := p.ServiceNames()
	for name := range p.DisabledServices {
		all = append(all, name)
	}
	for _, name := range names {
		if !slices.Contains(all, name) {
			slices.Sort(all)
			return fmt.Errorf("%w: %q is not a service of the compose file; the services are %s", ErrUnknownService, name, strings.Join(all, ", "))
		}
	}
	return nil
}
