// Package shared keeps each worktree's data apart inside a service that
// runs once for all worktrees of a repository (share: in wtenv.yaml). For
// Postgres, each worktree gets its own database, a copy of the server's
// initialized one; the original becomes a template that takes no
// connection, so an app that still names it fails loudly instead of
// sharing data with another worktree.
package shared

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Execer runs a command in a running container, as the engine's Exec.
type Execer interface {
	Exec(ctx context.Context, id, user string, cmd []string) (stdout, stderr string, code int, err error)
}

// fileCopyAbove is the template size from which Clone copies files.
const fileCopyAbove = 16 << 20

// ErrPostgres wraps what the server refused, with psql's own words.
var ErrPostgres = errors.New("postgres")

// Postgres is a shared Postgres server, spoken to with psql inside its
// container over the local socket as its superuser (the official image,
// and wtenv's stand-in, trust local connections).
type Postgres struct {
	Exec      Execer
	Container string // the server's container
	User      string // its superuser: POSTGRES_USER, else postgres
}

// Ready reports whether the server accepts commands. The image's
// entrypoint first runs its init scripts on a temporary server that
// listens on no address, then restarts it: only the final server, which
// listens, is ready.
func (pg Postgres) Ready(ctx context.Context) bool {
	out, err := pg.query(ctx, "SHOW listen_addresses")
	return err == nil && strings.TrimSpace(out) != ""
}

// Databases lists the server's databases that are not templates, less
// postgres: the ones its init scripts made, which worktrees get copies of.
func (pg Postgres) Databases(ctx context.Context) ([]string, error) {
	out, err := pg.query(ctx, "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY datname")
	if err != nil {
		return nil, err
	}
	return lines(out), nil
}

// closedMark is the comment on the server's postgres database that says
// its initialized databases have become templates: from then on, a
// database that is not a template is a worktree's copy.
const closedMark = "wtenv: initialized databases closed as templates"

// CloseTemplates makes every database the server's initialization made a
// template that takes no connection, once: on a server whose databases
// were closed already it does nothing (worktrees' copies are not
// templates, and must stay open). It returns the templates.
func (pg Postgres) CloseTemplates(ctx context.Context) ([]string, error) {
	out, err := pg.query(ctx, "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = 'postgres'")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) != closedMark {
		dbs, err := pg.Databases(ctx)
		if err != nil {
			return nil, err
		}
		for _, db := range dbs {
			if err := pg.CloseTemplate(ctx, db); err != nil {
				return nil, err
			}
		}
		// Marked last: a crash before it closes the same ones again.
		if _, err := pg.query(ctx, "COMMENT ON DATABASE postgres IS "+literal(closedMark)); err != nil {
			return nil, err
		}
	}
	return pg.Templates(ctx)
}

// Templates lists the server's closed templates, less Postgres's own.
func (pg Postgres) Templates(ctx context.Context) ([]string, error) {
	out, err := pg.query(ctx, "SELECT datname FROM pg_database WHERE datistemplate AND datname NOT IN ('template0', 'template1') ORDER BY datname")
	if err != nil {
		return nil, err
	}
	return lines(out), nil
}

// CloseTemplate makes db a template that takes no connection, ending the
// connections it has. It is idempotent.
func (pg Postgres) CloseTemplate(ctx context.Context, db string) error {
	_, err := pg.query(ctx, fmt.Sprintf(
		"ALTER DATABASE %[1]s WITH ALLOW_CONNECTIONS false IS_TEMPLATE true; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %[2]s AND pid <> pg_backend_pid()",
		ident(db), literal(db)))
	return err
}

// Clone creates db as a copy of template, owned by the template's owner,
// unless db exists; it reports whether it created it. A spare copy made
// ahead (Spare) is renamed, which takes no time; without one the template
// is copied. Both are all or nothing, so a process killed mid-clone
// leaves either no database or a whole one, and the next Clone finishes
// the job. It is one psql run: each statement is made and run by the
// server only when it applies (\gexec), then db's presence is read back.
func (pg Postgres) Clone(ctx context.Context, db, template string) (Made, error) {
	script := fmt.Sprintf(`\timing on
SELECT format('ALTER DATABASE %%I RENAME TO %%I', datname, %[1]s) FROM pg_database
  WHERE starts_with(datname, %[3]s) AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = %[1]s) ORDER BY datname LIMIT 1
\gexec
%[2]s
\gexec
SELECT 'present=' || count(*) FROM pg_database WHERE datname = %[1]s;
`, literal(db), copySQL(literal(db), template), literal(sparePrefix(template)))
	out, err := pg.script(ctx, script)
	if err != nil {
		return Made{}, err
	}
	if !strings.Contains(out, "present=1") {
		return Made{}, fmt.Errorf("%w: the server has no database %q to copy for this worktree; check the server's POSTGRES_DB and init scripts", ErrPostgres, template)
	}
	return madeFrom(out), nil
}

// Made says how Clone made a database, if it did: by renaming a spare or
// by copying the template, and how long the server took for it.
type Made struct {
	Renamed, Copied bool
	Server          time.Duration
}

// Created reports whether Clone made the database.
func (m Made) Created() bool { return m.Renamed || m.Copied }

// madeFrom reads Clone's psql output: the command tag of the statement
// it ran, if any, and the timing line that follows it.
func madeFrom(out string) Made {
	var m Made
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case "ALTER DATABASE":
			m.Renamed = true
		case "CREATE DATABASE":
			m.Copied = true
		default:
			continue
		}
		for _, t := range lines[i+1:] {
			if ms, ok := strings.CutPrefix(strings.TrimSpace(t), "Time: "); ok {
				ms, _, _ = strings.Cut(ms, " ms")
				if f, err := strconv.ParseFloat(ms, 64); err == nil {
					m.Server = time.Duration(f * float64(time.Millisecond))
				}
				break
			}
		}
	}
	return m
}

// Spare makes a copy of template ahead, under a name of its own, unless
// one exists, for the next Clone to rename: a worktree's database then
// takes no copying on its up. A spare is made while a worktree's
// services start, so its copying overlaps their wait.
func (pg Postgres) Spare(ctx context.Context, template string) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := sparePrefix(template) + hex.EncodeToString(b[:])
	script := fmt.Sprintf(`%s
\gexec
`, copySQL(literal(name), template)+fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM pg_database WHERE starts_with(datname, %s))", literal(sparePrefix(template))))
	_, err := pg.script(ctx, script)
	return err
}

// sparePrefix starts the names of template's spare copies: fixed length,
// whatever the template's name.
func sparePrefix(template string) string {
	sum := sha256.Sum256([]byte(template))
	return "wtenv_spare_" + hex.EncodeToString(sum[:6]) + "_"
}

// copySQL is a query whose one row, when name is missing and the template
// exists, is the statement that copies the template to name (a literal),
// owned by the template's owner.
//
// A large template is copied file by file (FILE_COPY, after a
// checkpoint); the default since Postgres 15, WAL_LOG, writes every page
// to the WAL and through shared buffers: twice as slow for a database of
// 80 MB here, and it leaves the copy in the server's memory, though
// faster for a small one. Servers before 15 copy files and know no
// STRATEGY.
func copySQL(name, template string) string {
	return fmt.Sprintf(`SELECT format('CREATE DATABASE %%I TEMPLATE %%I OWNER %%I', %[1]s, datname, pg_get_userbyid(datdba))
  || CASE WHEN pg_database_size(oid) >= %[3]d AND current_setting('server_version_num')::int >= 150000 THEN ' STRATEGY FILE_COPY' ELSE '' END
  FROM pg_database WHERE datname = %[2]s AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = %[1]s)`, name, literal(template), fileCopyAbove)
}

// script runs a psql script (statements and backslash commands) on the
// postgres database, given through psql's standard input.
func (pg Postgres) script(ctx context.Context, script string) (string, error) {
	return pg.psql(ctx, []string{"sh", "-c", `printf '%s\n' "$1" | psql -X -A -t -v ON_ERROR_STOP=1 -U "$2" -d postgres -f -`, "sh", script, pg.user()})
}

// Drop removes db, ending its connections. Dropping a database that does
// not exist is not an error.
func (pg Postgres) Drop(ctx context.Context, db string) error {
	_, err := pg.query(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", ident(db)))
	return err
}

// query runs sql through psql on the postgres database and returns its
// unaligned, tuples-only output.
func (pg Postgres) query(ctx context.Context, sql string) (string, error) {
	return pg.psql(ctx, []string{"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", pg.user(), "-d", "postgres", "-c", sql})
}

// psql runs cmd in the server's container and returns its output, or
// psql's own words when it fails.
func (pg Postgres) psql(ctx context.Context, cmd []string) (string, error) {
	out, errOut, code, err := pg.Exec.Exec(ctx, pg.Container, "", cmd)
	if err != nil {
		return "", fmt.Errorf("psql in %s: %w", pg.Container, err)
	}
	if code != 0 {
		return "", fmt.Errorf("%w: %s", ErrPostgres, strings.TrimSpace(errOut+out))
	}
	return out, nil
}

// user is the superuser psql runs as.
func (pg Postgres) user() string {
	if pg.User == "" {
		return "postgres"
	}
	return pg.User
}

// ident quotes a Postgres identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// literal quotes a Postgres string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
