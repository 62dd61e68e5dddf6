package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// initRepo is a git repository holding files, for init to write into.
func initRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	all := map[string][]byte{"README": []byte("x\n")}
	for name, body := range files {
		all[name] = []byte(body)
	}
	return enginetest.Repo(t, "shop", all)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(readFile(t, path), &v); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	return v
}

// codexFile is the part of Codex's config.toml init writes.
type codexFile struct {
	MCPServers map[string]struct {
		Command        string   `toml:"command"`
		Args           []string `toml:"args"`
		StartupTimeout int      `toml:"startup_timeout_sec"`
		ToolTimeout    int      `toml:"tool_timeout_sec"`
		EnvVars        []any    `toml:"env_vars"`
	} `toml:"mcp_servers"`
}

type conductorFile struct {
	Schema  string            `toml:"$schema"`
	Scripts map[string]string `toml:"scripts"`
}

func decodeTOMLFile(t *testing.T, path string, v any) {
	t.Helper()
	if err := toml.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("%s is not TOML: %v", path, err)
	}
}

// Each host's file, written from nothing in the worktree root (found from
// a subfolder), holds exactly wtenv's entry; a second run leaves it alone.
func TestInitWritesEachHostsFile(t *testing.T) {
	repo := initRepo(t, map[string]string{"src/main.go": "package main\n"})
	sub := filepath.Join(repo, "src")
	for _, tc := range []struct {
		host, file string
		check      func(t *testing.T, path string)
	}{
		{"claude", ".mcp.json", func(t *testing.T, path string) {
			want := map[string]any{"mcpServers": map[string]any{"wtenv": map[string]any{"type": "stdio", "command": "wtenv", "args": []any{"serve"}}}}
			if got := decodeJSONFile(t, path); !reflect.DeepEqual(got, want) {
				t.Errorf(".mcp.json = %v, want %v", got, want)
			}
		}},
		{"cursor", ".cursor/mcp.json", func(t *testing.T, path string) {
			want := map[string]any{"mcpServers": map[string]any{"wtenv": map[string]any{"command": "wtenv", "args": []any{"serve"}}}}
			if got := decodeJSONFile(t, path); !reflect.DeepEqual(got, want) {
				t.Errorf(".cursor/mcp.json = %v, want %v", got, want)
			}
		}},
		{"codex", ".codex/config.toml", func(t *testing.T, path string) {
			var f codexFile
			decodeTOMLFile(t, path, &f)
			s := f.MCPServers["wtenv"]
			if len(f.MCPServers) != 1 || s.Command != "wtenv" || !slices.Equal(s.Args, []string{"serve"}) || s.ToolTimeout != 1800 || s.StartupTimeout != 30 {
				t.Errorf("config.toml = %+v", f)
			}
			for _, v := range []string{"DOCKER_HOST", "WTENV_STATE_DIR", "CONDUCTOR_PORT"} {
				if !slices.Contains(s.EnvVars, any(v)) {
					t.Errorf("env_vars %v lacks %s", s.EnvVars, v)
				}
			}
		}},
		{"conductor", ".conductor/settings.toml", func(t *testing.T, path string) {
			var f conductorFile
			decodeTOMLFile(t, path, &f)
			want := map[string]string{"setup": "wtenv up", "archive": "wtenv down --purge"}
			if !reflect.DeepEqual(f.Scripts, want) || f.Schema != conductorSchema {
				t.Errorf("settings.toml = %+v, want scripts %v", f, want)
			}
		}},
	} {
		path := filepath.Join(repo, tc.file)
		code, stdout, stderr := cli(t, "init", tc.host, "--worktree", sub)
		if code != exitOK || !strings.HasPrefix(stdout, "created "+path+":") {
			t.Fatalf("init %s: exit %d\n%s%s", tc.host, code, stdout, stderr)
		}
		tc.check(t, path)
		before := readFile(t, path)
		code, stdout, _ = cli(t, "init", tc.host, "--worktree", repo)
		if code != exitOK || !strings.HasPrefix(stdout, "unchanged "+path) || string(readFile(t, path)) != string(before) {
			t.Errorf("init %s again: exit %d, %q; the file changed: %v", tc.host, code, stdout, string(readFile(t, path)) != string(before))
		}
	}
}

// What the files held before stays: other servers, keys, tables,
// comments, scripts, the file's mode.
func TestInitMergesWithWhatIsThere(t *testing.T) {
	mcp := "{\n    \"mcpServers\": {\n        \"docs\": {\"command\": \"docs-mcp\", \"args\": [\"--stdio\"]},\n" +
		"        \"wtenv\": {\"command\": \"/opt/wtenv\", \"args\": [\"serve\"], \"env\": {\"WTENV_MEMORY_BUDGET\": \"8GiB\"}}\n    },\n    \"theme\": \"dark\"\n}\n"
	codex := "# team settings: keep this comment\nmodel = \"o3\"\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\" # and this one\n\n" +
		"[mcp_servers.wtenv]\ntool_timeout_sec = 3600\n\n[profiles.fast]\nmodel = \"mini\"\n"
	conductor := "[scripts]\nsetup = \"pnpm install\"\nrun = \"pnpm dev --port $CONDUCTOR_PORT\"\n"
	repo := initRepo(t, map[string]string{
		".mcp.json": mcp, ".cursor/mcp.json": mcp, ".codex/config.toml": codex, ".conductor/settings.toml": conductor,
	})
	if err := os.Chmod(filepath.Join(repo, ".mcp.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"claude", "cursor", "codex", "conductor"} {
		if code, stdout, stderr := cli(t, "init", host, "--worktree", repo); code != exitOK || !strings.HasPrefix(stdout, "updated ") {
			t.Fatalf("init %s: exit %d\n%s%s", host, code, stdout, stderr)
		}
	}

	for _, file := range []string{".mcp.json", ".cursor/mcp.json"} {
		path := filepath.Join(repo, file)
		got := decodeJSONFile(t, path)
		servers := got["mcpServers"].(map[string]any)
		if got["theme"] != "dark" || !reflect.DeepEqual(servers["docs"], map[string]any{"command": "docs-mcp", "args": []any{"--stdio"}}) {
			t.Errorf("%s lost what it held: %v", file, got)
		}
		wtenv := servers["wtenv"].(map[string]any)
		if wtenv["command"] != "wtenv" || !reflect.DeepEqual(wtenv["env"], map[string]any{"WTENV_MEMORY_BUDGET": "8GiB"}) {
			t.Errorf("%s: wtenv entry %v, want wtenv serve with its env kept", file, wtenv)
		}
		// Untouched members keep their bytes.
		if !strings.Contains(string(readFile(t, path)), `"docs": {"command": "docs-mcp", "args": ["--stdio"]},`) {
			t.Errorf("%s: the docs entry was rewritten:\n%s", file, readFile(t, path))
		}
	}
	if fi, err := os.Stat(filepath.Join(repo, ".mcp.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".mcp.json mode %v, want 0600 kept (%v)", fi.Mode(), err)
	}

	path := filepath.Join(repo, ".codex", "config.toml")
	text := string(readFile(t, path))
	for _, keep := range []string{"# team settings: keep this comment\n", `command = "docs-mcp" # and this one`, "[profiles.fast]\nmodel = \"mini\"\n"} {
		if !strings.Contains(text, keep) {
			t.Errorf("config.toml lost %q:\n%s", keep, text)
		}
	}
	var doc map[string]any
	if err := toml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	wtenv := doc["mcp_servers"].(map[string]any)["wtenv"].(map[string]any)
	if doc["model"] != "o3" || wtenv["command"] != "wtenv" || wtenv["tool_timeout_sec"] != int64(3600) || doc["profiles"] == nil {
		t.Errorf("config.toml merged wrong (a longer tool timeout must stay):\n%s", text)
	}

	var f conductorFile
	decodeTOMLFile(t, filepath.Join(repo, ".conductor", "settings.toml"), &f)
	want := map[string]string{"setup": "pnpm install && wtenv up", "run": "pnpm dev --port $CONDUCTOR_PORT", "archive": "wtenv down --purge"}
	if !reflect.DeepEqual(f.Scripts, want) {
		t.Errorf("conductor scripts %v, want %v", f.Scripts, want)
	}
}

// A repository on Conductor's legacy conductor.json gets its settings
// carried over: Conductor ignores conductor.json once settings.toml exists.
func TestInitConductorCarriesOverConductorJSON(t *testing.T) {
	repo := initRepo(t, map[string]string{"conductor.json": `{"scripts": {"setup": "npm ci", "run": "npm run dev"}, "runScriptMode": "nonconcurrent"}`})
	code, stdout, stderr := cli(t, "init", "conductor", "--worktree", repo)
	if code != exitOK || !strings.Contains(stdout, "delete conductor.json") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var f conductorFile
	decodeTOMLFile(t, filepath.Join(repo, ".conductor", "settings.toml"), &f)
	want := map[string]string{"setup": "npm ci && wtenv up", "run": "npm run dev", "run_mode": "nonconcurrent", "archive": "wtenv down --purge"}
	if !reflect.DeepEqual(f.Scripts, want) {
		t.Errorf("scripts %v, want %v", f.Scripts, want)
	}
}

// A file that does not parse is named with its line, and left as it was.
func TestInitRefusesAFileThatDoesNotParse(t *testing.T) {
	broken := map[string]string{
		"claude":    ".mcp.json",
		"cursor":    ".cursor/mcp.json",
		"codex":     ".codex/config.toml",
		"conductor": ".conductor/settings.toml",
	}
	files := map[string]string{}
	for _, file := range broken {
		files[file] = "{\"a\": 1,\n  oops\n"
	}
	repo := initRepo(t, files)
	for host, file := range broken {
		path := filepath.Join(repo, file)
		code, stdout, stderr := cli(t, "init", host, "--worktree", repo)
		if code != exitConfig || !strings.Contains(stderr, path+":") || !strings.Contains(stderr, "nothing was written") || stdout != "" {
			t.Errorf("init %s: exit %d, stderr %q; want %d naming %s and its line", host, code, stderr, exitConfig, path)
		}
		if got := string(readFile(t, path)); got != files[file] {
			t.Errorf("init %s changed the broken file: %q", host, got)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		for _, e := range entries {
			if strings.Contains(e.Name(), ".wtenv-") {
				t.Errorf("a temporary file is left: %s", e.Name())
			}
		}
	}
}

func TestInitUsage(t *testing.T) {
	repo := initRepo(t, nil)
	for _, args := range [][]string{{"init", "vscode", "--worktree", repo}, {"init", "--worktree", repo}, {"init", "claude", "codex", "--worktree", repo}} {
		code, _, stderr := cli(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "claude, cursor, codex or conductor") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	code, stdout, _ := cli(t, "init", "codex", "--dry-run", "--worktree", repo)
	if code != exitOK || !strings.Contains(stdout, "would be created") || !strings.Contains(stdout, "[mcp_servers.wtenv]") {
		t.Errorf("dry run: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(repo, ".codex")); !os.IsNotExist(err) {
		t.Errorf("the dry run wrote: %v", err)
	}
}

// Strings a script may hold come back from the TOML wtenv writes as they
// went in.
func TestTOMLStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"wtenv up", `cp "$ROOT/.env" .env`, `echo 'it''s'`, `a\b`, "tab\there", "bell\a",
		"pnpm install\ncp \"$X\" .env\n", "line '''\nthree quotes\n", "ends with a quote\"", "\nleading newline\n", "crlf\r\nline",
	} {
		var v struct{ K string }
		if err := toml.Unmarshal([]byte("K = "+tomlString(s)+"\n"), &v); err != nil || v.K != s {
			t.Errorf("tomlString(%q) = %s: decodes to %q, %v", s, tomlString(s), v.K, err)
		}
	}
}

// Appending to a script never lets a comment or the script's last
// operator swallow wtenv's command, and setup's runs only after success.
func TestAppendScript(t *testing.T) {
	for _, tc := range []struct{ script, sep, want string }{
		{"pnpm install", " && ", "pnpm install && wtenv up"},
		{"npm ci # deps", " && ", "{\nnpm ci # deps\n} && wtenv up\n"},
		{"make deps;", " && ", "{\nmake deps;\n} && wtenv up\n"},
		{"rm -rf tmp &", "; ", "rm -rf tmp &\nwtenv up\n"},
		{"a\nb\n", " && ", "{\na\nb\n} && wtenv up\n"},
	} {
		if got := appendScript(tc.script, "wtenv up", tc.sep); got != tc.want {
			t.Errorf("%q + %q: %q, want %q", tc.script, tc.sep, got, tc.want)
		}
		if out, err := exec.Command("sh", "-n", "-c", appendScript(tc.script, "wtenv up", tc.sep)).CombinedOutput(); err != nil {
			t.Errorf("%q: not valid sh: %v %s", tc.script, err, out)
		}
	}
}
