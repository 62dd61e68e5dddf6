package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs/stack"
)

// printCaches prints `ls --caches` and `gc --caches`.
func printCaches(w io.Writer, c stack.Caches, removed bool) {
	for _, u := range c.Unreachable {
		fmt.Fprintf(w, "engine %s; its caches were not read\n", u)
	}
	if len(c.Caches) == 0 {
		if removed {
			fmt.Fprintln(w, "no test cache to remove (those a container uses stay)")
		} else {
			fmt.Fprintln(w, "no test caches: a suite run in a container keeps its toolchain's caches (or tests.<suite>.cache) here after its first run")
		}
		return
	}
	switch {
	case removed && c.DryRun:
		fmt.Fprintln(w, "would remove these test caches (a suite's next run starts them again from its image):")
	case removed:
		fmt.Fprintln(w, "removed these test caches (a suite's next run starts them again from its image):")
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "VOLUME\tPATH\tSIZE\tIN USE\tENGINE\tREPOSITORY")
	var total int64
	for _, x := range c.Caches {
		size := "?"
		if x.SizeBytes >= 0 {
			size = units.BytesSize(float64(x.SizeBytes))
			total += x.SizeBytes
		}
		inUse := "no"
		if x.InUse {
			inUse = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Volume, x.Path, size, inUse, x.Engine, x.Repo)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d cache(s), %s on disk; no memory, so the budget does not count them\n", len(c.Caches), units.BytesSize(float64(total)))
}
