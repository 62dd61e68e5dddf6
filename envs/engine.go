package envs

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/engine"
)

// Engine is what the core needs of a container engine: a few verbs, each
// finding what wtenv made by label. *engine.Docker implements it against a
// Docker engine, and a contract suite checks it there (envs/engine's
// tests); the logic above it — status, admission, port choice, gc — works
// on what these methods report and is tested with a small fake.
type Engine interface {
	// Host tells where the engine runs: whether it is this machine (host
	// ports are probed here, bind mounts name this machine's paths) and
	// the address that URLs of its published ports carry.
	Host() engine.Host
	// MemTotal is the memory the engine can give containers (on a desktop
	// VM, the VM's).
	MemTotal(ctx context.Context) (int64, error)
	// Snapshot lists every container wtenv made on the engine, with the
	// memory of the running ones; the containers of detail's stack carry
	// their health and exit code.
	Snapshot(ctx context.Context, detail engine.Scope) (engine.Snapshot, error)
	// PublishedPorts maps every host port a container on the engine
	// publishes, wtenv's or not, to the stack that publishes it.
	PublishedPorts(ctx context.Context) (map[int]engine.Scope, error)
	// Owners lists every stack that owns a container, network, volume or
	// image on the engine, with the machine whose worktree it is.
	Owners(ctx context.Context) ([]engine.Owner, error)
	// Up brings the isolated project to its declared state, labelled with
	// meta, and waits for health. It is idempotent.
	Up(ctx context.Context, p *types.Project, meta engine.Meta, opts engine.UpOptions) error
	// Stop stops the scope's running service containers, dependents
	// first, keeping them and everything they use, so that Up starts
	// them again as they were. It returns how many it stopped.
	Stop(ctx context.Context, scope engine.Scope) (int, error)
	// Down removes the scope's containers and networks, with purge also
	// its volumes and built images. Gone already is success.
	Down(ctx context.Context, scope engine.Scope, purge bool) (engine.DownResult, error)
	// Logs returns the last tail lines of the scope's services (or one).
	Logs(ctx context.Context, scope engine.Scope, service string, tail int) (string, error)
	// RunOneOff runs a one-off container of one of p's services on the
	// stack's networks and returns its exit code; it removes the
	// container however the run ends.
	RunOneOff(ctx context.Context, p *types.Project, meta engine.Meta, opts engine.RunOptions) (int, error)
	// RemoveOneOff removes a one-off container; gone already is success.
	RemoveOneOff(ctx context.Context, id string) error
	// Exec runs cmd in a running container and returns its output and
	// exit code: how a shared server's databases are made and dropped.
	Exec(ctx context.Context, id, user string, cmd []string) (stdout, stderr string, code int, err error)
	// Join connects a container to a network under aliases (again, when
	// it is there under others): a shared server joins each worktree's
	// network.
	Join(ctx context.Context, container, net string, aliases []string) error
	// Close releases the connection.
	Close() error
}

var _ Engine = (*engine.Docker)(nil)

// connect opens the engine Docker's own settings name (DOCKER_HOST,
// DOCKER_CONTEXT, the CLI's current context).
func connect(ctx context.Context) (Engine, error) {
	d, err := engine.New(ctx)
	if err != nil {
		return nil, err // not a nil *Docker in a non-nil Engine
	}
	return d, nil
}
