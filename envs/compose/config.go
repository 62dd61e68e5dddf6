package compose

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"go.yaml.in/yaml/v4"
)

// ConfigFile is the name of wtenv's optional configuration file at the
// worktree root.
const ConfigFile = "wtenv.yaml"

// Test output formats a suite may declare.
const (
	FormatGoTestJSON = "go-test-json"
	FormatJUnit      = "junit"
	FormatTAP        = "tap"
	FormatPlain      = "plain"
)

// Formats lists the valid values of a suite's format, in the order the
// documentation gives them.
var Formats = []string{FormatGoTestJSON, FormatJUnit, FormatTAP, FormatPlain}

// ErrInvalidConfig reports a wtenv.yaml that cannot be used as written.
var ErrInvalidConfig = errors.New("invalid wtenv.yaml")

// Config is the content of wtenv.yaml. The zero value is the configuration
// of a worktree without the file.
type Config struct {
	// Compose names the compose files, relative to the worktree root, in
	// the order Docker Compose's -f flags would take them. Empty means the
	// compose discovery rules.
	Compose []string `yaml:"compose"`
	// Profiles are the compose profiles enabled for up.
	Profiles []string `yaml:"profiles"`
	// Tests maps a suite name (unit, e2e) to how it runs.
	Tests map[string]Suite `yaml:"tests"`
	// Memory holds the memory estimate used before a peak is measured.
	Memory Memory `yaml:"memory"`
	// HostNetwork lets services with network_mode: host run. Their ports
	// are the host's own, so two worktrees' stacks then collide.
	HostNetwork bool `yaml:"host_network"`
	// IdleAfter is how long the worktree's stack may go untouched before
	// admission may put it to sleep to make room for another; 0 never.
	// Unset, the machine's policy applies (WTENV_IDLE_AFTER).
	IdleAfter IdleAfter `yaml:"idle_after"`
	// Share names services that run once for all worktrees of the
	// repository, each worktree's data kept apart inside them.
	Share []Shared `yaml:"share"`
	// Engine pins the worktree's stacks to one engine of the pool, by its
	// name in the engines file; empty: placed by free memory.
	Engine string `yaml:"engine"`
}

// IdleAfter is wtenv.yaml's idle_after: a duration, or 0 for never.
type IdleAfter struct {
	Set   bool
	After time.Duration // 0: never
}

// UnmarshalYAML reads 15m, 1h30m or 0.
func (i *IdleAfter) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return errors.New("idle_after must be a duration such as 15m, or 0 for never")
	}
	d, err := budget.ParseIdleAfter(s)
	if err != nil {
		return err
	}
	*i = IdleAfter{Set: true, After: d}
	return nil
}

// Suite describes one test suite.
type Suite struct {
	// Service is the compose service whose definition the one-off test
	// container is made from. Exactly one of Service and Host is set.
	Service string `yaml:"service"`
	// Command is what the suite runs.
	Command StringOrList `yaml:"command"`
	// Format is how the output is parsed: one of Formats. Empty in the
	// file means plain.
	Format string `yaml:"format"`
	// Timeout bounds one run; zero means the caller's default.
	Timeout Duration `yaml:"timeout"`
	// Needs are the services that must be running and healthy first.
	Needs []string `yaml:"needs"`
	// Report is the path of a junit report inside the worktree.
	Report string `yaml:"report"`
	// Host runs the command on the host, with the stack's URLs in its
	// environment, instead of in a container.
	Host bool `yaml:"host"`
	// Cache are paths in the suite's container kept across runs in named
	// volumes the repository's worktrees share. Absent: the defaults of a
	// toolchain the service makes obvious (DefaultCaches); empty: none.
	Cache []string `yaml:"cache"`
}

// Memory is the memory section of wtenv.yaml.
type Memory struct {
	// Estimate is the stack's expected memory use, such as 2GiB.
	Estimate string `yaml:"estimate"`
}

// EstimateBytes returns Estimate in bytes, or 0 when it is not set.
func (m Memory) EstimateBytes() (int64, error) {
	if m.Estimate == "" {
		return 0, nil
	}
	// The same size syntax as WTENV_MEMORY_BUDGET: MB is 10^6, MiB 2^20.
	spec, err := budget.ParseBudget(m.Estimate)
	if err != nil || spec.Bytes <= 0 {
		return 0, fmt.Errorf("%w: memory.estimate %q is not a size; write it like 512MiB or 2GiB", ErrInvalidConfig, m.Estimate)
	}
	return spec.Bytes, nil
}

// LoadConfig reads root/wtenv.yaml. A missing file gives the zero Config and
// no error. Unknown keys are errors, so a misspelt key is reported instead of
// being ignored.
func LoadConfig(root string) (Config, error) {
	path, err := configPath(root)
	if err != nil || path == "" {
		return Config{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w; fix the YAML syntax", ErrInvalidConfig, path, err)
	}
	var cfg Config
	if len(doc.Content) == 0 {
		return cfg, nil
	}
	if err := knownKeys(path, doc.Content[0], reflect.TypeFor[Config](), ""); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := doc.Content[0].Decode(&cfg); err != nil {
		return Config{}, decodeError(path, err)
	}
	if err := cfg.validate(); err != nil {
		if ke := (*keyError)(nil); errors.As(err, &ke) {
			if line := lineOf(doc.Content[0], ke.path...); line > 0 {
				msg := strings.TrimPrefix(err.Error(), ErrInvalidConfig.Error()+": ")
				return Config{}, fmt.Errorf("%w: %s:%d: %s", ErrInvalidConfig, path, line, msg)
			}
		}
		return Config{}, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	return cfg, nil
}

// keyError is a value validate refuses, with where it is in the file.
type keyError struct {
	path []string
	err  error
}

func (k *keyError) Error() string { return k.err.Error() }
func (k *keyError) Unwrap() error { return k.err }

func at(err error, path ...string) error {
	if err == nil {
		return nil
	}
	return &keyError{path: path, err: err}
}

// lineOf is the line of the deepest key of path found under the mapping n.
func lineOf(n *yaml.Node, path ...string) int {
	line := 0
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// configPath is root's wtenv.yaml, else its wtenv.yml (as Compose takes
// either extension), else "". Both at once is an error: one would be
// silently ignored.
func configPath(root string) (string, error) {
	var found []string
	for _, name := range []string{ConfigFile, "wtenv.yml"} {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", p, err)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: both %s and %s exist; keep one (wtenv reads one file)", ErrInvalidConfig, found[0], found[1])
}

// decodeError gives each value the decoder could not read its own line,
// starting with file:line like the unknown key errors.
func decodeError(path string, err error) error {
	var list *yaml.LoadErrors
	if !errors.As(err, &list) {
		return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	errs := make([]error, len(list.Errors))
	for i, e := range list.Errors {
		errs[i] = fmt.Errorf("%w: %s:%d: %w", ErrInvalidConfig, path, e.Line, e.Err)
	}
	return errors.Join(errs...)
}

// validate checks the values the YAML types cannot, and fills the default
// format.
func (c *Config) validate() error {
	for _, name := range slices.Sorted(maps.Keys(c.Tests)) {
		s := c.Tests[name]
		if s.Format == "" {
			s.Format = FormatPlain
		}
		if !slices.Contains(Formats, s.Format) {
			return at(fmt.Errorf("tests.%s.format %q is not a known format; use one of %s", name, s.Format, strings.Join(Formats, " | ")), "tests", name, "format")
		}
		if hasService := s.Service != ""; hasService == s.Host {
			return at(fmt.Errorf("tests.%s needs exactly one of service: (run in a container of that service) or host: true", name), "tests", name)
		}
		if len(s.Command.Args) == 0 {
			return at(fmt.Errorf("tests.%s has no command; add command: as a list of arguments or a shell string", name), "tests", name)
		}
		if err := s.checkCache(name); err != nil {
			return at(err, "tests", name, "cache")
		}
		c.Tests[name] = s
	}
	_, err := c.Memory.EstimateBytes()
	return at(err, "memory", "estimate")
}
