package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

// runHost runs the suite on the host, in the worktree, with the stack's
// addresses in the environment: WTENV_<SERVICE>_URL, _HOST and _PORT for
// each service's first published port, and WTENV_<SERVICE>_<PORT>_URL,
// _HOST, _PORT for every published container port.
func runHost(ctx context.Context, env *envs.Env, argv []string, extra map[string]string, out io.Writer) (int, error) {
	if len(argv) == 0 {
		return -1, errors.New("the suite's command is empty; set command: in wtenv.yaml")
	}
	st, err := env.Status(ctx)
	if err != nil {
		return -1, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = env.Worktree.Root
	cmd.Env = append(os.Environ(), addressEnv(st)...)
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a timeout or cancel kills the whole tree;
	// WaitDelay bounds the wait for pipes a stray grandchild keeps open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("running %s: %w", argv[0], err)
	}
	return 0, nil
}

func addressEnv(st stack.Stack) []string {
	var out []string
	for _, v := range st.Addresses() {
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}
