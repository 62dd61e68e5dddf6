package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

var enginesCmd = command{
	anyWorktree: true,
	name:        "engines",
	summary:     "show the pool of engines: each one's budget, what it holds, whether it answers",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the pool as JSON")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: engines takes no arguments", errUsage)
			}
			es, err := envs.Engines(ctx)
			if err != nil {
				return err
			}
			return g.emit(es, func(w io.Writer) { printEngines(w, es) })
		}
	},
}

func printEngines(w io.Writer, es stack.Engines) {
	if es.File == "" {
		fmt.Fprintln(w, "no engines file (WTENV_ENGINES, else ~/.config/wtenv/engines.yaml): the pool is the engine Docker's settings name")
	} else {
		fmt.Fprintf(w, "engines file: %s\n", es.File)
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ENGINE\tHOST\tANSWERS\tSTACKS (THIS MACHINE'S)\tHELD\tBUDGET\tFREE")
	for _, e := range es.Engines {
		if !e.Reachable {
			fmt.Fprintf(tw, "%s\t%s\tno\t%s\t-\t-\t-\n", e.Name, e.Host, dash(mineOnly(e)))
			continue
		}
		limit, free := "none", "-"
		if e.Budget.LimitBytes > 0 {
			limit, free = units.BytesSize(float64(e.Budget.LimitBytes)), units.BytesSize(float64(e.Budget.FreeBytes))
		}
		fmt.Fprintf(tw, "%s\t%s\tyes\t%d (%d)\t%s\t%s\t%s\n", e.Name, e.Host, e.Stacks, e.Mine, units.BytesSize(float64(e.Budget.UsedBytes)), limit, free)
	}
	tw.Flush()
	for _, e := range es.Engines {
		if e.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", e.Name, e.Error)
		}
	}
}

// mineOnly is what an engine that does not answer is known to hold: the
// stacks this machine placed there.
func mineOnly(e stack.EngineStatus) string {
	if e.Mine == 0 {
		return ""
	}
	return fmt.Sprintf("? (%d)", e.Mine)
}
