package envs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/shared"
	"github.com/wtenv/wtenv/envs/state"
)

// A service named in wtenv.yaml's share: runs once for all worktrees of
// the repository, as a stack of its own (sharedEnv), and joins each
// worktree's networks under the service's name and aliases. For Postgres
// each worktree gets its own database in it, a copy of the server's
// initialized one, and its services' configuration is pointed at that
// copy (compose.RewriteDatabases). The shared stack's state entry lists
// its tenants, the worktrees with their databases; settle removes or
// stops the server as its tenants go or sleep.

// sharedEnv is the Env of the repository's shared services: its worktree
// is the repository's common git directory, the same for every worktree.
func (e *Env) sharedEnv() (*Env, error) {
	if e.Worktree.CommonDir == "" {
		return nil, fmt.Errorf("%w: share: needs a git repository, and %s has no common git directory", compose.ErrInvalidConfig, e.Worktree.Root)
	}
	wt := e.Worktree
	wt.Root, wt.Branch = e.Worktree.CommonDir, ""
	e.curMu.RLock()
	defer e.curMu.RUnlock()
	return &Env{Worktree: wt, Project: identity.SharedName(wt.Repo, wt.Root), cur: e.cur, pool: e.pool, member: e.member, store: e.store, machine: e.machine}, nil
}

// shareUp makes the worktree's isolated project p use the shared services
// of cfg: each server is brought up (once for the repository) and, for
// Postgres, the worktree's databases are copied from the server's
// initialized ones; p loses the shared services and its database names
// point at the worktree's copies. It returns what joins the servers to
// the worktree's networks before its services start, and what up should
// tell the user.
func (e *Env) shareUp(ctx context.Context, p *types.Project, cfg compose.Config, opts UpOptions, progress func(string)) (func(context.Context) error, []string, func(), error) {
	if len(cfg.Share) == 0 {
		return nil, nil, func() {}, nil
	}
	s, err := e.sharedEnv()
	if err != nil {
		return nil, nil, nil, err
	}
	// Spare copies for the next worktree are made while this one's
	// services start; Up waits for them before it returns.
	spares := &sync.WaitGroup{}
	var notes []string
	var joins []func(context.Context) error
	for _, sh := range cfg.Share {
		svc := p.Services[sh.Service]
		stateful, refs, nets, err := e.detachShared(p, sh)
		if err != nil {
			spares.Wait()
			return nil, nil, nil, err
		}
		srv, more, err := e.serve(ctx, s, sh.Service, superuser(svc), stateful, refs, opts, progress, spares)
		if err != nil {
			spares.Wait()
			return nil, nil, nil, err
		}
		notes = append(notes, more...)
		if !stateful {
			notes = append(notes, fmt.Sprintf("service %q is shared by all worktrees of the repository (share: in wtenv.yaml, stateless): its data is common to them all", sh.Service))
		}
		joins = append(joins, func(ctx context.Context) error {
			for _, n := range nets {
				if err := e.engine().Join(ctx, srv, n.Network, n.Aliases); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return func(ctx context.Context) error {
		for _, j := range joins {
			if err := j(ctx); err != nil {
				return err
			}
		}
		return nil
	}, notes, spares.Wait, nil
}

// shareLocal is what shareUp does to the worktree's project p without
// starting anything: the shared services leave it and its database names
// point at the worktree's own databases, which it returns.
func (e *Env) shareLocal(p *types.Project, cfg compose.Config) ([]compose.DatabaseRef, error) {
	var all []compose.DatabaseRef
	for _, sh := range cfg.Share {
		_, refs, _, err := e.detachShared(p, sh)
		if err != nil {
			return nil, err
		}
		all = append(all, refs...)
	}
	return all, nil
}

// detachShared takes the shared service sh out of the worktree's project
// p. For a database server (stateful) it first points the database names
// p's services use at the worktree's own; it returns them and the
// networks the server is to join.
func (e *Env) detachShared(p *types.Project, sh compose.Shared) (stateful bool, refs []compose.DatabaseRef, nets []compose.Join, err error) {
	stateful = !sh.Stateless && compose.SharedKind(p.Services[sh.Service]) == compose.KindPostgres
	if stateful {
		refs = compose.RewriteDatabases(p, sh.Service, func(db string) string { return compose.DatabaseName(db, e.Project) })
	}
	nets, err = compose.Detach(p, sh.Service)
	return stateful, refs, nets, err
}

// unnameShared drops the container_name of the services cfg shares from
// the worktree's project p: they run in the shared stack, under its name,
// so isolating the worktree's copy of them would rename nothing real.
func unnameShared(p *types.Project, cfg compose.Config) {
	for _, sh := range cfg.Share {
		if s, ok := p.Services[sh.Service]; ok {
			s.ContainerName = ""
			p.Services[sh.Service] = s
		}
	}
}

// superuser is the shared Postgres server's superuser, as its image
// reads it.
func superuser(s types.ServiceConfig) string {
	if v := s.Environment["POSTGRES_USER"]; v != nil && *v != "" {
		return *v
	}
	return "postgres"
}

// serve brings the shared service up in s, the shared stack, unless it
// runs already, under s's lock, and for a stateful one makes the
// worktree's databases: the server's initialized databases are closed as
// templates, once, and each database the worktree's services name is
// copied from its template. The worktree is recorded as a tenant before
// any copy, so that a purge finds a copy a crash left behind. It returns
// the server's container.
func (e *Env) serve(ctx context.Context, s *Env, service, user string, stateful bool, refs []compose.DatabaseRef, opts UpOptions, progress func(string), spares *sync.WaitGroup) (string, []string, error) {
	unlock, err := s.lockProject(ctx)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	id, err := e.startServer(ctx, s, service, opts, progress)
	if err != nil {
		return "", nil, err
	}
	var dbs []string
	for _, r := range refs {
		if !slices.Contains(dbs, r.Renamed) {
			dbs = append(dbs, r.Renamed)
		}
	}
	err = e.store.Update(ctx, func(f *state.File) error {
		sp := project(f, s)
		sp.Shared = true
		if stateful {
			sp.Server, sp.Superuser = service, user
		}
		if sp.Tenants == nil {
			sp.Tenants = map[string][]string{}
		}
		if _, ok := sp.Tenants[e.Project]; !ok {
			// Its measured peak held the service it now shares: the next
			// measurement, without it, replaces it.
			if own := f.Projects[e.Project]; own != nil {
				own.PeakMemory = 0
			}
		}
		for _, db := range dbs {
			if !slices.Contains(sp.Tenants[e.Project], db) {
				sp.Tenants[e.Project] = append(sp.Tenants[e.Project], db)
			}
		}
		if sp.Tenants[e.Project] == nil {
			sp.Tenants[e.Project] = []string{}
		}
		return nil
	})
	if err != nil || !stateful {
		return id, nil, err
	}
	pg := shared.Postgres{Exec: e.engine(), Container: id, User: user}
	templates, err := openServer(ctx, pg, opts.Timeout)
	if err != nil {
		return "", nil, err
	}
	if err := flushDrops(ctx, e.store, s.Project, pg); err != nil {
		return "", nil, err
	}
	var notes []string
	done := map[string]bool{}
	for _, r := range refs {
		if done[r.Renamed] {
			continue
		}
		done[r.Renamed] = true
		if !slices.Contains(templates, r.Database) {
			notes = append(notes, fmt.Sprintf("%s names database %q (%s), which the shared %s's initialization did not make; this worktree's name for it is %q, for the app to create", r.Service, r.Database, r.Variable, service, r.Renamed))
			continue
		}
		start := time.Now()
		made, err := pg.Clone(ctx, r.Renamed, r.Database)
		if err != nil {
			return "", nil, fmt.Errorf("copying database %q for this worktree: %w", r.Database, err)
		}
		if made.Created() {
			how := "copied"
			if made.Renamed {
				how = "a spare copy renamed"
			}
			progress(fmt.Sprintf("database %s: made from %s in %.2fs (%s; %.3fs in the server)", r.Renamed, r.Database, time.Since(start).Seconds(), how, made.Server.Seconds()))
			spares.Add(1)
			go func() {
				defer spares.Done()
				// Without a spare the next worktree's copy is made on its
				// up: slower, not wrong, so a failure here is not reported.
				_ = pg.Spare(context.WithoutCancel(ctx), r.Database)
			}()
		}
	}
	return id, notes, nil
}

// startServer brings the shared service up unless its container runs,
// and returns the container. A running server is used as it is: bringing
// it to another worktree's idea of its configuration would recreate it
// under every worktree that uses it.
func (e *Env) startServer(ctx context.Context, s *Env, service string, opts UpOptions, progress func(string)) (string, error) {
	if id, ok, err := serverContainer(ctx, e.engine(), s.scope(), service); err != nil || ok {
		return id, err
	}
	sp, err := s.serverProject(ctx, e.Worktree.Root, service)
	if err != nil {
		return "", err
	}
	adm, err := s.admit(ctx, sp, progress)
	if err != nil {
		return "", err
	}
	if _, err := s.evict(ctx, adm.victims, progress); err != nil {
		_ = s.release(context.WithoutCancel(ctx))
		return "", err
	}
	progress(fmt.Sprintf("starting %s, shared by the repository's worktrees, as %s", service, s.Project))
	meta := s.meta(sp)
	meta.Shared = true
	if err := e.engine().Up(ctx, sp, meta, engine.UpOptions{Timeout: opts.Timeout, Progress: opts.Progress}); err != nil {
		_ = s.release(context.WithoutCancel(ctx))
		return "", fmt.Errorf("shared service %s: %w", service, err)
	}
	if err := s.started(ctx); err != nil {
		return "", err
	}
	id, ok, err := serverContainer(ctx, e.engine(), s.scope(), service)
	if err == nil && !ok {
		err = fmt.Errorf("shared service %s has no running container after up; see `docker logs` of %s's containers", service, s.Project)
	}
	return id, err
}

// serverProject is the shared service's project as the worktree at root
// defines it, isolated under the shared stack's name and port block.
func (s *Env) serverProject(ctx context.Context, root, service string) (*types.Project, error) {
	cfg, err := compose.LoadConfig(root)
	if err != nil {
		return nil, err
	}
	p, err := compose.Load(ctx, root, cfg, s.Project)
	if err != nil {
		return nil, err
	}
	sp, err := compose.ServerProject(p, service, s.Project)
	if err != nil {
		return nil, err
	}
	hostPorts, err := s.assignPorts(ctx, compose.Published(sp))
	if err != nil {
		return nil, err
	}
	_, err = compose.Isolate(sp, s.Project, hostPorts, root)
	return sp, err
}

// serverContainer finds the shared service's running container.
func serverContainer(ctx context.Context, eng Engine, scope engine.Scope, service string) (string, bool, error) {
	snap, err := eng.Snapshot(ctx, scope)
	if err != nil {
		return "", false, err
	}
	for _, c := range snap.Containers {
		if c.In(scope) && !c.OneOff && c.Service == service && c.State == "running" {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

// openServer waits until the Postgres server takes commands (its image's
// init scripts done) and closes its initialized databases as templates,
// once; it returns the templates.
func openServer(ctx context.Context, pg shared.Postgres, timeout time.Duration) ([]string, error) {
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	for !pg.Ready(ctx) {
		if time.Now().After(deadline) {
			return nil, errors.New("the shared Postgres server did not take commands in time; see its logs (`docker logs " + pg.Container + "`)")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return pg.CloseTemplates(ctx)
}

// flushDrops drops the databases of purged worktrees that waited for the
// server to run.
func flushDrops(ctx context.Context, store *state.Store, sharedProject string, pg shared.Postgres) error {
	f, err := store.Read(ctx)
	if err != nil {
		return err
	}
	sp := f.Projects[sharedProject]
	if sp == nil || len(sp.Drop) == 0 {
		return nil
	}
	var errs []error
	var dropped []string
	for _, db := range sp.Drop {
		if err := pg.Drop(ctx, db); err != nil {
			errs = append(errs, fmt.Errorf("dropping database %s of a purged worktree: %w", db, err))
			continue
		}
		dropped = append(dropped, db)
	}
	err = store.Update(ctx, func(f *state.File) error {
		if sp := f.Projects[sharedProject]; sp != nil {
			sp.Drop = slices.DeleteFunc(sp.Drop, func(db string) bool { return slices.Contains(dropped, db) })
		}
		return nil
	})
	return errors.Join(append(errs, err)...)
}

// sharedNames are the services cfg shares.
func sharedNames(cfg compose.Config) []string {
	var out []string
	for _, sh := range cfg.Share {
		out = append(out, sh.Service)
	}
	return out
}
