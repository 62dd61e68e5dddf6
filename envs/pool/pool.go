// Package pool reads the engines file: the Docker engines wtenv may place
// stacks on, each with its own memory budget (DESIGN.md, "Engines").
// Without the file the pool is the one engine Docker's own settings name,
// and nothing changes for a single machine.
package pool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wtenv/wtenv/envs/budget"
	"go.yaml.in/yaml/v4"
)

// EnvVar names the engines file.
const EnvVar = "WTENV_ENGINES"

// ErrInvalid reports an engines file that cannot be used as written.
var ErrInvalid = errors.New("invalid engines file")

// Engine is one engine of the pool.
type Engine struct {
	Name string
	// Host is where the engine answers: unix://, tcp:// (TLS as Docker's
	// settings give it), ssh://user@host, or the name of a Docker
	// context.
	Host string
	// Budget is the engine's memory budget; the zero Spec is the
	// default, a share of the engine's memory.
	Budget budget.Spec
	// Line is where the entry starts in the file, for messages.
	Line int
}

// Context reports whether Host names a Docker context rather than an
// address.
func (e Engine) Context() bool { return !strings.Contains(e.Host, "://") }

// Pool is the engines file's content: engines in the order written.
type Pool struct {
	Path    string
	Engines []Engine
}

// Path is the engines file wtenv reads: WTENV_ENGINES, else
// $XDG_CONFIG_HOME/wtenv/engines.yaml, else ~/.config/wtenv/engines.yaml.
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		return p, nil
	}
	if xdg := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "wtenv", "engines.yaml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the engines file: %w; set %s", err, EnvVar)
	}
	return filepath.Join(home, ".config", "wtenv", "engines.yaml"), nil
}

// Load reads the engines file. Without one it returns nil and no error:
// the pool is then the engine Docker's settings name. A file named by
// WTENV_ENGINES must exist.
func Load() (*Pool, error) {
	path, err := Path()
	if err != nil {
		return nil, nil // no home and no WTENV_ENGINES: no file to read
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv(EnvVar) == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w; fix or unset %s", ErrInvalid, err, EnvVar)
	}
	return Parse(path, data)
}

// names of engines: what `engine:` in wtenv.yaml and the labels carry.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// schemes are the addresses Docker's client reaches.
var schemes = []string{"unix://", "tcp://", "ssh://", "npipe://"}

// Parse reads an engines file's content; path is for messages. Every
// problem is named with its line and what to write instead.
func Parse(path string, data []byte) (*Pool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w; fix the YAML syntax", ErrInvalid, path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s: want a mapping with engines: [{name, host, budget}]", ErrInvalid, path)
	}
	top := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k := top.Content[i]
		if k.Value != "engines" {
			return nil, fmt.Errorf("%w: %s:%d: unknown key %q; the only key is engines", ErrInvalid, path, k.Line, k.Value)
		}
		list = top.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: engines: must list at least one engine ({name, host, budget})", ErrInvalid, path)
	}
	p := &Pool{Path: path}
	var problems []string
	seen := map[string]int{}
	for _, n := range list.Content {
		e, errs := engineOf(n)
		for _, msg := range errs {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", path, n.Line, msg))
		}
		if e.Name != "" {
			if line, dup := seen[e.Name]; dup {
				problems = append(problems, fmt.Sprintf("%s:%d: engine %q is named twice (first at line %d); give each engine its own name", path, n.Line, e.Name, line))
			}
			seen[e.Name] = n.Line
		}
		p.Engines = append(p.Engines, e)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(problems, "\n  "))
	}
	return p, nil
}

// engineOf reads one entry, with what is wrong in it.
func engineOf(n *yaml.Node) (Engine, []string) {
	e := Engine{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return e, []string{"an engine is a mapping: {name: NAME, host: ADDRESS, budget: SIZE}"}
	}
	var problems []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			e.Name = v.Value
		case "host":
			e.Host = v.Value
		case "budget":
			spec, err := budget.ParseBudget(v.Value)
			if err != nil {
				// The error names the variable the parser serves most.
				msg := strings.Replace(err.Error(), budget.ErrInvalidBudget.Error(), "invalid budget", 1)
				problems = append(problems, msg)
			}
			e.Budget = spec
		default:
			problems = append(problems, fmt.Sprintf("unknown key %q; the keys are name, host, budget", k.Value))
		}
	}
	switch {
	case e.Name == "":
		problems = append(problems, "an engine needs name: (lower-case letters, digits, - _ .)")
	case !validName.MatchString(e.Name):
		problems = append(problems, fmt.Sprintf("engine name %q: use lower-case letters, digits, - _ . (at most 63)", e.Name))
	}
	switch {
	case e.Host == "":
		problems = append(problems, fmt.Sprintf("engine %q needs host: (unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST, or a Docker context's name)", e.Name))
	case strings.Contains(e.Host, "://") && !hasScheme(e.Host):
		problems = append(problems, fmt.Sprintf("engine %q: host %q: use unix://, tcp://, ssh:// or npipe://, or a Docker context's name", e.Name, e.Host))
	}
	return e, problems
}

func hasScheme(host string) bool {
	for _, s := range schemes {
		if strings.HasPrefix(host, s) && len(host) > len(s) {
			return true
		}
	}
	return false
}

// Find returns the engine named name.
func (p *Pool) Find(name string) (Engine, bool) {
	for _, e := range p.Engines {
		if e.Name == name {
			return e, true
		}
	}
	return Engine{}, false
}
