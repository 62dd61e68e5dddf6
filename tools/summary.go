package tools

import (
	"fmt"
	"strings"

	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs/stack"
)

// summarizeStack is the text a model that reads only text gets for a Stack.
func summarizeStack(st stack.Stack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s (branch %s) is %s", st.Project, st.Branch, st.State)
	if st.State == stack.StateAbsent {
		b.WriteString("; start it with env_up.")
		return b.String()
	}
	fmt.Fprintf(&b, ", %d services, %s memory.", len(st.Services), units.BytesSize(float64(st.MemoryBytes)))
	for _, s := range st.Services {
		fmt.Fprintf(&b, "\n- %s: %s", s.Name, s.State)
		if s.Health != "" {
			fmt.Fprintf(&b, ", %s", s.Health)
		}
		if s.State == "exited" {
			fmt.Fprintf(&b, " (exit code %d)", s.ExitCode)
		}
		for _, p := range s.Ports {
			fmt.Fprintf(&b, ", %s (container port %d)", p.Address(), p.ContainerPort)
		}
		if sh := s.Shared; sh != nil {
			fmt.Fprintf(&b, "; shared by %d worktree(s) of the repository (%s)", sh.Worktrees, sh.Project)
			if len(sh.Databases) > 0 {
				fmt.Fprintf(&b, ", this worktree's own database %s", strings.Join(sh.Databases, ", "))
			}
		}
	}
	for _, w := range st.Warnings {
		fmt.Fprintf(&b, "\nNote: %s", w)
	}
	for _, line := range st.Admission.Lines() {
		b.WriteString("\n" + line)
	}
	if st.State == stack.StateAsleep {
		b.WriteString("\nIt is asleep: its containers, data and ports are kept and it holds no memory; env_up or a test run wakes it.")
	}
	return b.String()
}

func summarizeDown(d stack.Down) string {
	r := d.Removed
	return fmt.Sprintf("Stack %s removed: %d containers, %d networks, %d volumes, %d images.", d.Project, r.Containers, r.Networks, r.Volumes, r.Images)
}

func summarizeList(l stack.List) string {
	if len(l.Stacks) == 0 {
		return "No wtenv stacks on this engine."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d wtenv stacks on this engine:", len(l.Stacks))
	for _, s := range l.Stacks {
		fmt.Fprintf(&b, "\n- %s: %s, %s, branch %s, worktree %s", s.Project, s.State, units.BytesSize(float64(s.MemoryBytes)), s.Branch, s.Worktree)
	}
	return b.String()
}
