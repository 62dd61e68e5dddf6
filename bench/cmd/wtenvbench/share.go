package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

// The -share scenario, "Eight worktrees, one Postgres": N worktrees of the
// shop, each database seeded with the same data (seedRows rows, ≥ 50 MB),
// measured side by side as N stacks with a Postgres each and as N stacks
// sharing one Postgres (share: [db], a database each), with each
// worktree's e2e suite run in both layouts before the memory is read.
type shareConfig struct {
	on      bool
	n, rows int
	par     int
}

func shareFlags(c *shareConfig) {
	flag.BoolVar(&c.on, "share", false, "run only the scenario \"Eight worktrees, one Postgres\" and replace its section of results.md (the rest of the file is kept)")
	flag.IntVar(&c.n, "share-n", 8, "worktrees in the -share scenario")
	flag.IntVar(&c.rows, "share-rows", 450000, "rows of the seed table in each database (450000 ≈ 70 MB with its index)")
	flag.IntVar(&c.par, "share-parallel", 2, "ups at once in the -share scenario")
}

// seedCompose adds the seed to the shop's Postgres as an init script:
// what a fresh Compose stack's database would hold.
const seedCompose = `services:
  db:
    volumes:
      - ./bench-seed:/docker-entrypoint-initdb.d:ro
`

func seedSQL(rows int) string {
	return fmt.Sprintf(`CREATE TABLE bench_history (id bigserial PRIMARY KEY, item text NOT NULL, qty int NOT NULL, note text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO bench_history (item, qty, note)
  SELECT 'item-' || (g %% 1000), g %% 17, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, %d) g;
`, rows)
}

// layoutRun is one layout's measurement.
type layoutRun struct {
	name                 string
	ups                  []time.Duration
	e2ePassed, e2eTotal  int
	e2eFailures          []string
	stacks               footprint // the worktrees' stacks, all services
	stacksUnreclaim      int64
	postgres             footprint // the Postgres containers (or the one server)
	postgresUnreclaim    int64
	dbBytes              []int64 // each worktree's database size
	clones               []madeDB
	sharedProject        string
	servers, worktreeDBs int
}

// madeDB is one worktree's database as up made it: by renaming a spare
// or copying the template; the time up waited, and the server's part.
type madeDB struct {
	wall, server float64
	renamed      bool
}

// runShare is the -share mode.
func (b *bench) runShare(ctx context.Context) (string, error) {
	sc := b.cfg.share
	for _, dir := range b.trees {
		files := map[string]string{
			"bench-seed/seed.sql":     seedSQL(sc.rows),
			"compose.bench-seed.yaml": seedCompose,
		}
		for name, body := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				return "", err
			}
		}
		if err := appendFile(filepath.Join(dir, "wtenv.yaml"), "compose: [compose.yaml, compose.bench-seed.yaml]\n"); err != nil {
			return "", err
		}
	}
	r := &shareResult{machine: b.machineFacts(ctx), rows: sc.rows, n: len(b.trees)}
	var err error
	b.awaitQuiet(ctx)
	if r.separate, err = b.layout(ctx, "separate"); err != nil {
		return "", fmt.Errorf("separate layout: %w", err)
	}
	for _, dir := range b.trees {
		if _, err := runQuiet(ctx, dir, b.wtenv, "down"); err != nil {
			return "", err
		}
		if err := appendFile(filepath.Join(dir, "wtenv.yaml"), "share: [db]\n"); err != nil {
			return "", err
		}
	}
	b.awaitQuiet(ctx)
	if r.shared, err = b.layout(ctx, "shared"); err != nil {
		return "", fmt.Errorf("shared layout: %w", err)
	}
	r.machine.loadEnd = loadAvg()
	r.elapsed = time.Since(b.start)
	path := filepath.Join(b.repo, b.cfg.out)
	old, _ := os.ReadFile(path)
	return path, os.WriteFile(path, []byte(replaceMarked(string(old), shareMarkers, r.markdown(b.cfg))), 0o644)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var copiedLine = regexp.MustCompile(`database (\S+): made from (\S+) in ([0-9.]+)s \(([^;]+); ([0-9.]+)s in the server\)`)

// layout brings every worktree's stack up (par at once), runs each one's
// e2e suite, lets the machine settle, and measures.
func (b *bench) layout(ctx context.Context, name string) (*layoutRun, error) {
	lr := &layoutRun{name: name, ups: make([]time.Duration, len(b.trees))}
	sem := make(chan struct{}, b.cfg.share.par)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(b.trees))
	for i, dir := range b.trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t := time.Now()
			run := runTimed(ctx, t, dir, []string{b.wtenv, "up", "--json"})
			lr.ups[i] = time.Since(t)
			if run.err != nil {
				errs[i] = fmt.Errorf("up in %s: %v", dir, run.err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, l := range run.lines {
				if m := copiedLine.FindStringSubmatch(l.text); m != nil {
					wall, _ := strconv.ParseFloat(m[3], 64)
					server, _ := strconv.ParseFloat(m[5], 64)
					lr.clones = append(lr.clones, madeDB{wall: wall, server: server, renamed: strings.Contains(m[4], "renamed")})
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	b.logf("%s: %d stacks up; e2e in each", name, len(b.trees))
	for _, dir := range b.trees {
		out, err := runQuiet(ctx, dir, b.wtenv, "test", "e2e", "--json")
		var tr runner.TestRun
		if jerr := json.Unmarshal([]byte(out), &tr); jerr != nil {
			return nil, fmt.Errorf("e2e in %s: %v %v", dir, err, jerr)
		}
		lr.e2eTotal++
		if tr.Passed {
			lr.e2ePassed++
		} else {
			lr.e2eFailures = append(lr.e2eFailures, filepath.Base(dir))
		}
	}
	b.logf("%s: e2e passed in %d of %d; letting memory settle", name, lr.e2ePassed, lr.e2eTotal)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(15 * time.Second):
	}
	return lr, b.measureLayout(ctx, lr)
}

// measureLayout reads what the worktrees' stacks and their Postgres
// servers hold, and each worktree's database size.
func (b *bench) measureLayout(ctx context.Context, lr *layoutRun) error {
	servers := map[string]bool{}
	for _, dir := range b.trees {
		out, err := runQuiet(ctx, dir, b.wtenv, "status", "--json")
		if err != nil {
			return err
		}
		var st stack.Stack
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			return err
		}
		f, err := measureStack(ctx, b.api, st.Project)
		if err != nil {
			return err
		}
		lr.stacks.add(f)
		lr.stacksUnreclaim += unreclaimable(f)
		for _, s := range st.Services {
			if s.Name != "db" {
				continue
			}
			db := "shop"
			if s.Shared != nil {
				lr.sharedProject = s.Shared.Project
				db = s.Shared.Databases[0]
			} else if err := b.addPostgres(ctx, lr, s.Container); err != nil {
				return err
			}
			servers[s.Container] = true
			size, err := dbSize(ctx, s.Container, db)
			if err != nil {
				return err
			}
			lr.dbBytes = append(lr.dbBytes, size)
			lr.worktreeDBs++
		}
	}
	lr.servers = len(servers)
	if lr.sharedProject != "" {
		// The shared server is a stack of its own, counted once.
		f, err := measureStack(ctx, b.api, lr.sharedProject)
		if err != nil {
			return err
		}
		lr.postgres.add(f)
		lr.postgresUnreclaim += unreclaimable(f)
		lr.stacks.add(f)
		lr.stacksUnreclaim += unreclaimable(f)
	}
	return nil
}

// addPostgres adds one worktree's own Postgres container to the layout's
// Postgres figures: its cgroup and its shim and port proxies.
func (b *bench) addPostgres(ctx context.Context, lr *layoutRun, container string) error {
	insp, err := b.api.ContainerInspect(ctx, container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	project := insp.Container.Config.Labels["com.docker.compose.project"]
	all, err := measureStack(ctx, b.api, project)
	if err != nil {
		return err
	}
	// measureStack reads every container of the project; keep this one's
	// share: its cgroup, and its helpers counted per container.
	f := footprint{procs: map[string]*procGroup{}}
	if insp.Container.State != nil && insp.Container.State.Pid > 0 {
		f.containers = cgroupMemory(insp.Container.State.Pid)
		f.mainPids = []int{insp.Container.State.Pid}
	}
	n := int64(max(len(all.mainPids), 1))
	for k, g := range all.procs {
		f.procs[k] = &procGroup{n: g.n / int(n), rss: g.rss / n, pss: g.pss / n}
	}
	lr.postgres.add(f)
	lr.postgresUnreclaim += unreclaimable(f)
	return nil
}

// dbSize is the size of database db on the server in container.
func dbSize(ctx context.Context, container, db string) (int64, error) {
	out, err := runQuiet(ctx, "", "docker", "exec", container, "psql", "-X", "-A", "-t", "-U", "shop", "-d", "postgres",
		"-c", "SELECT pg_database_size('"+strings.ReplaceAll(db, "'", "''")+"')")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(out), 10, 64)
}

// unreclaimable is what the kernel cannot take back from a footprint
// without swap: its containers' anonymous and shared memory (cgroup anon
// + shmem), and the helper processes whole.
func unreclaimable(f footprint) int64 {
	var t int64
	for _, pid := range f.mainPids {
		t += cgroupAnonShmem(pid)
	}
	for _, g := range f.procs {
		t += g.pss
	}
	return t
}

// cgroupAnonShmem reads anon + shmem of a process's memory cgroup.
func cgroupAnonShmem(pid int) int64 {
	dir, v2 := cgroupDir(pid, "memory")
	if dir == "" {
		return 0
	}
	keys := []string{"total_rss", "total_shmem"}
	if v2 {
		keys = []string{"anon", "shmem"}
	}
	stat, _ := os.ReadFile(dir + "/memory.stat")
	var t int64
	for _, line := range strings.Split(string(stat), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && (k == keys[0] || k == keys[1]) {
			n, _ := strconv.ParseInt(v, 10, 64)
			t += n
		}
	}
	return t
}
