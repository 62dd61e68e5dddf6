package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Codex waits 10 s for an MCP server to start and 60 s for a tool call by
// default; an env_up that builds images or a test suite takes longer.
const (
	codexToolTimeout    = 1800
	codexStartupTimeout = 30
)

// codexEnvVars are passed on to `wtenv serve`: Codex gives an MCP server
// only a few variables of its own environment (HOME, PATH, USER, ...), and
// without these the server would talk to another engine, keep another
// state file or miss the workspace's ports.
var codexEnvVars = []string{
	"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_BUILDKIT",
	"SSH_AUTH_SOCK", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
	"WTENV_STATE_DIR", "WTENV_PORT_RANGE", "WTENV_MEMORY_BUDGET", "WTENV_IDLE_AFTER", "WTENV_ENGINES", "WTENV_HOST_ID",
	"CONDUCTOR_PORT",
}

// mergeCodex sets [mcp_servers.wtenv] in Codex's project config. Keys the
// user set stay: a longer timeout is kept, env_vars only gains names.
func mergeCodex(_ string, old []byte) (merged, error) {
	doc, err := decodeTOML(old)
	if err != nil {
		return merged{}, err
	}
	path := []string{"mcp_servers", "wtenv"}
	cur, err := tableAt(doc, path...)
	if err != nil {
		return merged{}, err
	}
	var keys []tomlKey
	var notes []string
	if cmd, ok := cur["command"]; cmd != "wtenv" {
		keys = append(keys, tomlKey{"command", "wtenv"})
		if ok {
			notes = append(notes, fmt.Sprintf("replaced the wtenv server's command %v with wtenv", tomlLiteral(cmd)))
		}
	}
	if args, ok := cur["args"]; !reflect.DeepEqual(args, []any{"serve"}) {
		keys = append(keys, tomlKey{"args", []any{"serve"}})
		if ok {
			notes = append(notes, fmt.Sprintf("replaced the wtenv server's args %v with [\"serve\"]", tomlLiteral(args)))
		}
	}
	for _, t := range []struct {
		key  string
		want int64
	}{{"startup_timeout_sec", codexStartupTimeout}, {"tool_timeout_sec", codexToolTimeout}} {
		v, ok := cur[t.key]
		if n, isNum := number(v); !isNum || n < float64(t.want) {
			keys = append(keys, tomlKey{t.key, t.want})
			if ok {
				notes = append(notes, fmt.Sprintf("raised %s from %v to %d", t.key, tomlLiteral(v), t.want))
			}
		}
	}
	if vars, missing := envVarsWith(cur["env_vars"]); len(missing) > 0 {
		keys = append(keys, tomlKey{"env_vars", vars})
		if cur != nil {
			notes = append(notes, fmt.Sprintf("added %s to the wtenv server's env_vars, which Codex passes on to it", strings.Join(missing, ", ")))
		}
	}
	out, rewrote, err := setTOMLKeys(old, doc, path, keys)
	if err != nil {
		return merged{}, err
	}
	if rewrote {
		notes = append(notes, "the file defines mcp_servers.wtenv outside one [mcp_servers.wtenv] table, so it was written anew: every key is kept, its comments and key order are not")
	}
	return merged{data: out, changed: len(keys) > 0 || old == nil, notes: notes}, nil
}

// envVarsWith is env_vars with codexEnvVars added, and the names added.
// An entry may be a name or a table with one.
func envVarsWith(v any) ([]any, []string) {
	have, _ := v.([]any)
	names := map[string]bool{}
	for _, e := range have {
		switch e := e.(type) {
		case string:
			names[e] = true
		case map[string]any:
			if n, ok := e["name"].(string); ok {
				names[n] = true
			}
		}
	}
	out := slices.Clone(have)
	var missing []string
	for _, n := range codexEnvVars {
		if !names[n] {
			out = append(out, n)
			missing = append(missing, n)
		}
	}
	return out, missing
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// Conductor's repository settings (.conductor/settings.toml, the file its
// documentation describes; conductor.json is its legacy form).
const (
	conductorSchema = "https://conductor.build/schemas/settings.repo.schema.json"
	conductorSetup  = "wtenv up"
	conductorDown   = "wtenv down --purge"
)

var (
	runsWtenvUp   = regexp.MustCompile(`(^|[\s;&|(])wtenv\s+up($|[\s;&|)])`)
	runsWtenvDown = regexp.MustCompile(`(^|[\s;&|(])wtenv\s+down($|[\s;&|)])`)
)

// mergeConductor sets Conductor's setup and archive scripts to bring the
// workspace's stack up and remove it. A script already there is kept and
// wtenv's command added to it: setup runs `wtenv up` after it succeeds,
// archive runs `wtenv down --purge` after it whatever it returns.
func mergeConductor(root string, old []byte) (merged, error) {
	var notes []string
	created := old == nil
	if created {
		legacy, lnotes, err := fromConductorJSON(root)
		if err != nil {
			return merged{}, err
		}
		old, notes = []byte(fmt.Sprintf("\"$schema\" = %s\n%s", tomlString(conductorSchema), legacy)), lnotes
	}
	doc, err := decodeTOML(old)
	if err != nil {
		return merged{}, err
	}
	scripts, err := tableAt(doc, "scripts")
	if err != nil {
		return merged{}, err
	}
	var keys []tomlKey
	for _, s := range []struct {
		key, cmd, sep string
		runs          *regexp.Regexp
	}{{"setup", conductorSetup, " && ", runsWtenvUp}, {"archive", conductorDown, "; ", runsWtenvDown}} {
		v, ok := scripts[s.key]
		cur, isString := v.(string)
		switch {
		case ok && !isString:
			return merged{}, &parseError{msg: fmt.Sprintf("scripts.%s is not a string (it is %T)", s.key, v)}
		case strings.TrimSpace(cur) == "":
			keys = append(keys, tomlKey{s.key, s.cmd})
		case !s.runs.MatchString(cur):
			keys = append(keys, tomlKey{s.key, appendScript(cur, s.cmd, s.sep)})
			notes = append(notes, fmt.Sprintf("kept the %s script %q and added `%s` to it", s.key, cur, s.cmd))
		}
	}
	out, rewrote, err := setTOMLKeys(old, doc, []string{"scripts"}, keys)
	if err != nil {
		return merged{}, err
	}
	if rewrote {
		notes = append(notes, "the file defines scripts outside one [scripts] table, so it was written anew: every key is kept, its comments and key order are not")
	}
	return merged{data: out, changed: len(keys) > 0 || created, notes: append(notes, localOverrides(root)...)}, nil
}

// appendScript adds cmd to a script: after sep on a simple one-line
// script; otherwise (several lines, a comment, a trailing &, ; or |) on a
// line of its own, and, where it must run only after the script
// succeeded (sep " && "), after the script grouped in braces, so that
// neither a comment nor the script's last operator swallows it.
func appendScript(script, cmd, sep string) string {
	trimmed := strings.TrimSpace(script)
	simple := !strings.ContainsAny(trimmed, "\n#") && !strings.HasSuffix(trimmed, "&") && !strings.HasSuffix(trimmed, ";") && !strings.HasSuffix(trimmed, "|")
	switch {
	case simple:
		return trimmed + sep + cmd
	case strings.TrimSpace(sep) == "&&":
		return "{\n" + trimmed + "\n} && " + cmd + "\n"
	default:
		return trimmed + "\n" + cmd + "\n"
	}
}

// fromConductorJSON is the repository's legacy conductor.json as settings
// TOML (after the $schema line). Conductor ignores conductor.json once
// .conductor/settings.toml exists, so creating that file must carry its
// settings over.
func fromConductorJSON(root string) (string, []string, error) {
	path := filepath.Join(root, "conductor.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if err := checkJSON(data); err != nil {
		if pe, ok := errors.AsType[*parseError](err); ok {
			pe.file = path
		}
		return "", nil, err
	}
	var legacy map[string]any
	if err := json.Unmarshal(data, &legacy); err != nil {
		return "", nil, &parseError{file: path, line: 1, col: 1, msg: "its top level is not a JSON object"}
	}
	var top strings.Builder
	scripts := map[string]string{}
	var skipped []string
	for _, k := range slices.Sorted(maps.Keys(legacy)) {
		v := legacy[k]
		switch k {
		case "scripts":
			m, _ := v.(map[string]any)
			for _, name := range slices.Sorted(maps.Keys(m)) {
				if s, ok := m[name].(string); ok && (name == "setup" || name == "run" || name == "archive") {
					scripts[name] = s
				} else {
					skipped = append(skipped, "scripts."+name)
				}
			}
		case "runScriptMode":
			if s, ok := v.(string); ok {
				scripts["run_mode"] = s
			}
		case "enterpriseDataPrivacy":
			if b, ok := v.(bool); ok {
				fmt.Fprintf(&top, "enterprise_data_privacy = %t\n", b)
			}
		default:
			skipped = append(skipped, k)
		}
	}
	if len(scripts) > 0 {
		top.WriteString("\n[scripts]\n")
		for _, k := range []string{"setup", "run", "archive", "run_mode"} {
			if s, ok := scripts[k]; ok {
				fmt.Fprintf(&top, "%s = %s\n", k, tomlString(s))
			}
		}
	}
	notes := []string{"Conductor ignores conductor.json once .conductor/settings.toml exists: its settings were copied here; delete conductor.json"}
	if len(skipped) > 0 {
		notes = append(notes, fmt.Sprintf("conductor.json's %s were not copied: they have no settings.toml key that wtenv knows; move them by hand", strings.Join(skipped, ", ")))
	}
	return top.String(), notes, nil
}

// localOverrides names the scripts .conductor/settings.local.toml sets:
// they win over the shared file on this machine.
func localOverrides(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, ".conductor", "settings.local.toml"))
	if err != nil {
		return nil
	}
	doc, err := decodeTOML(data)
	if err != nil {
		return nil
	}
	scripts, _ := tableAt(doc, "scripts")
	var notes []string
	for _, k := range []string{"setup", "archive"} {
		if _, ok := scripts[k]; ok {
			notes = append(notes, fmt.Sprintf(".conductor/settings.local.toml sets scripts.%s, which wins over settings.toml on this machine", k))
		}
	}
	return notes
}
