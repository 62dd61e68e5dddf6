package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
)

// composeCLI is the Docker Compose the harness compares with: the v2
// plugin (`docker compose`) when the docker CLI has it, else the v1
// standalone `docker-compose`.
type composeCLI struct {
	argv    []string
	variant string
	version string
	project string
	file    string // the worktree's compose.yaml, unchanged
	dir     string
}

func detectCompose(ctx context.Context) (composeCLI, error) {
	if out, err := exec.CommandContext(ctx, "docker", "compose", "version", "--short").Output(); err == nil {
		return composeCLI{argv: []string{"docker", "compose"}, variant: "docker compose (v2 plugin)", version: strings.TrimSpace(string(out))}, nil
	}
	if out, err := exec.CommandContext(ctx, "docker-compose", "version", "--short").Output(); err == nil {
		return composeCLI{argv: []string{"docker-compose"}, variant: "docker-compose (v1 standalone)", version: strings.TrimSpace(string(out))}, nil
	}
	return composeCLI{}, fmt.Errorf("neither `docker compose` nor `docker-compose` runs here; install one to compare with")
}

// cmd is a compose command line on the shop's compose file under the
// Compose side's project name.
func (c composeCLI) cmd(args ...string) []string {
	return slices.Concat(c.argv, []string{"-p", c.project, "-f", c.file}, args)
}

// Compose's commands for each measured operation. up never builds (the
// images were built before any timed run, as wtenv's were): both sides
// start from present images.
func (c composeCLI) build() []string  { return c.cmd("build") }
func (c composeCLI) up() []string     { return c.cmd("up", "-d", "--no-build") }
func (c composeCLI) status() []string { return c.cmd("ps") }
func (c composeCLI) down() []string   { return c.cmd("down") }

// loadServices reads which services an up starts (the shop's `tests`
// service sits under a profile) and which are built, with the compose
// loader wtenv itself uses.
func (b *bench) loadServices(ctx context.Context) error {
	cfg, err := compose.LoadConfig(b.shop)
	if err != nil {
		return err
	}
	p, err := compose.Load(ctx, b.shop, cfg, composeProject)
	if err != nil {
		return err
	}
	b.services, b.builds = p.ServiceNames(), builtServices(p)
	// The concurrent stacks: the named services and what they depend on.
	b.concServices, b.concBuilds = b.services, b.builds
	if b.cfg.concServices != "all" {
		sel, err := p.WithSelectedServices(strings.Split(b.cfg.concServices, ","))
		if err != nil {
			return fmt.Errorf("-concurrent-services: %w", err)
		}
		b.concServices, b.concBuilds = sel.ServiceNames(), builtServices(sel)
	}
	return nil
}

func builtServices(p *types.Project) []string {
	var out []string
	for name, s := range p.Services {
		if s.Build != nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// wtenvCmd is a wtenv command line on one worktree, JSON out (the shape
// users' scripts read), progress on stderr.
func (b *bench) wtenvCmd(root string, args ...string) []string {
	return slices.Concat([]string{b.wtenv}, args, []string{"--worktree", root, "--json"})
}
