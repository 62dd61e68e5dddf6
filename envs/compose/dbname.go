package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// A worktree's services reach a shared database server (share: in
// wtenv.yaml) under the shared service's own name, and each worktree has
// its own database in it. The services' configuration names the database
// as a single-checkout project names it; RewriteDatabases points each
// such name at the worktree's own database, where wtenv can see it: in
// the environment (env_file entries are part of it once loaded).
//
//   - a URL whose scheme starts with postgres (postgres://,
//     postgresql+asyncpg://, jdbc:postgresql://) and whose host is the
//     shared service or one of its aliases: its path is the database;
//   - a variable that names a database by convention (POSTGRES_DB,
//     PGDATABASE, DB_NAME, DATABASE_NAME, DB_DATABASE, and NAME_DB_NAME
//     or NAME_DATABASE_NAME forms) in a service that reaches the shared
//     one (it depends on it, links to it, or a host variable names it).
//
// A name wtenv cannot see (a config file in the image, a name built at
// run time) stays as written: it reaches the server's own database, the
// template, which takes no connection, so the app fails loudly instead of
// sharing another worktree's data.

// DatabaseRef is one place where a service names a database on the shared
// service, rewritten.
type DatabaseRef struct {
	Service  string // the service whose configuration names it
	Variable string // the environment variable
	Database string // the name as written
	Renamed  string // the worktree's database
}

// databaseVar matches variables that name a database by convention.
var databaseVar = regexp.MustCompile(`^(POSTGRES_DB|PGDATABASE|([A-Z0-9]+_)*(DB_NAME|DATABASE_NAME|DB_DATABASE))$`)

// hostVar matches variables that name a database host by convention.
var hostVar = regexp.MustCompile(`^(PGHOST|POSTGRES_HOST|([A-Z0-9]+_)*(DB_HOST|DATABASE_HOST))$`)

// RewriteDatabases rewrites, in every service of p but the shared one,
// each database name that points at the shared service (see above) to
// rename(name), and returns what it rewrote, by service and variable.
func RewriteDatabases(p *types.Project, shared string, rename func(database string) string) []DatabaseRef {
	hosts := map[string]bool{shared: true}
	if s, ok := p.Services[shared]; ok {
		for _, n := range s.Networks {
			if n != nil {
				for _, a := range n.Aliases {
					hosts[a] = true
				}
			}
		}
	}
	var out []DatabaseRef
	out = append(out, rewriteIn(p.Services, shared, hosts, rename)...)
	// A test suite's service sits under a profile up does not enable; its
	// one-off runs reach the worktree's database too.
	return append(out, rewriteIn(p.DisabledServices, shared, hosts, rename)...)
}

// rewriteIn is RewriteDatabases over one map of services.
func rewriteIn(services types.Services, shared string, hosts map[string]bool, rename func(string) string) []DatabaseRef {
	var out []DatabaseRef
	for _, name := range slices.Sorted(maps.Keys(services)) {
		if name == shared {
			continue
		}
		s := services[name]
		reaches := reachesShared(s, shared, hosts)
		for _, key := range slices.Sorted(maps.Keys(s.Environment)) {
			v := s.Environment[key]
			if v == nil || *v == "" {
				continue
			}
			renamed, db, ok := rewriteURL(*v, hosts, rename)
			if !ok && reaches && databaseVar.MatchString(key) {
				renamed, db, ok = rename(*v), *v, true
			}
			if !ok {
				continue
			}
			s.Environment[key] = &renamed
			out = append(out, DatabaseRef{Service: name, Variable: key, Database: db, Renamed: rename(db)})
		}
		services[name] = s
	}
	return out
}

// reachesShared reports whether s reaches the shared service: it depends
// on it, links to it, or a host variable names it.
func reachesShared(s types.ServiceConfig, shared string, hosts map[string]bool) bool {
	if _, ok := s.DependsOn[shared]; ok {
		return true
	}
	for _, l := range s.Links {
		target, _, _ := strings.Cut(l, ":")
		if hosts[target] {
			return true
		}
	}
	for key, v := range s.Environment {
		if v != nil && hostVar.MatchString(key) {
			host, _, _ := strings.Cut(*v, ":")
			if hosts[host] {
				return true
			}
		}
	}
	return false
}

// rewriteURL renames the database of a Postgres URL whose host is one of
// hosts. It reports false for any other value, or a URL without a
// database.
func rewriteURL(v string, hosts map[string]bool, rename func(string) string) (string, string, bool) {
	prefix, rest := "", v
	if after, ok := strings.CutPrefix(v, "jdbc:"); ok {
		prefix, rest = "jdbc:", after
	}
	scheme, _, ok := strings.Cut(rest, "://")
	if !ok || !strings.HasPrefix(strings.ToLower(scheme), "postgres") {
		return "", "", false
	}
	u, err := url.Parse(rest)
	if err != nil || !hosts[u.Hostname()] {
		return "", "", false
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return "", "", false
	}
	u.Path, u.RawPath = "/"+rename(db), ""
	return prefix + u.String(), db, true
}

// DatabaseName is the worktree's own database for the name an app uses:
// the name, then the worktree's project name, lowercased to what Postgres
// keeps unquoted. Within Postgres's 63 bytes; a longer one keeps the
// name's start and the project's end, with a hash of both between, so
// that two names never meet.
func DatabaseName(database, project string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	base, suffix := clean(database), clean(project)
	if name := base + "__" + suffix; len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(database + "\x00" + project))
	hash := hex.EncodeToString(sum[:4])
	// 20 bytes of the name, 8 of hash, 31 of the project, 4 separators.
	return base[:min(len(base), 20)] + "_" + hash + "__" + suffix[max(0, len(suffix)-31):]
}
