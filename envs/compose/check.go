package compose

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// ErrUnsupported reports a compose key the engine does not implement. Each
// such key is an error rather than being dropped, because a stack that
// silently differs from its compose file fails later in ways that are much
// harder to trace.
var ErrUnsupported = errors.New("not supported by wtenv")

// Check returns an error for every compose key of p that the engine does not
// implement, naming the service (or network, volume) and the key, joined
// and sorted; nil when the project is fully supported. Only enabled
// services are checked: a service under a profile that is not enabled is
// checked with CheckService when something runs it.
func Check(p *types.Project, cfg Config) error {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		problems = append(problems, find("service", name, p.Services[name], serviceRules)...)
		problems = append(problems, checkNetworkMode(p.Services[name], cfg)...)
	}
	for _, name := range slices.Sorted(maps.Keys(p.DisabledServices)) {
		if s := p.DisabledServices[name]; s.Build != nil && builtForEnabled(p, s) {
			problems = append(problems, findAt("service", name, s.Build, buildRules, "build")...)
		}
	}
	problems = append(problems, checkShare(p, cfg.Share)...)
	for _, name := range slices.Sorted(maps.Keys(p.Networks)) {
		problems = append(problems, find("network", name, p.Networks[name], networkRules)...)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Volumes)) {
		problems = append(problems, find("volume", name, p.Volumes[name], volumeRules)...)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Secrets)) {
		problems = append(problems, find("secret", name, types.FileObjectConfig(p.Secrets[name]), fileObjectRules)...)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Configs)) {
		problems = append(problems, find("config", name, types.FileObjectConfig(p.Configs[name]), fileObjectRules)...)
	}
	for key, n := range map[string]int{"jobs": len(p.Jobs), "models": len(p.Models)} {
		if n > 0 {
			problems = append(problems, fmt.Sprintf("top-level key %q is %s: %s%s", key, ErrUnsupported, notYet, nextAction))
		}
	}
	return joined(problems)
}

// builtForEnabled reports whether up builds s although it is not enabled:
// an enabled service runs the image it builds, or builds on it.
func builtForEnabled(p *types.Project, s types.ServiceConfig) bool {
	for _, e := range p.Services {
		if s.Image != "" && e.Image == s.Image {
			return true
		}
		if e.Build != nil && slices.Contains(slices.Collect(maps.Values(e.Build.AdditionalContexts)), types.ServicePrefix+s.Name) {
			return true
		}
	}
	return false
}

// CheckService is Check for one service, such as a test suite's service
// that sits under a profile up does not enable.
func CheckService(s types.ServiceConfig, cfg Config) error {
	return joined(append(find("service", s.Name, s, serviceRules), checkNetworkMode(s, cfg)...))
}

// checkNetworkMode accepts the network modes Docker Compose runs, but the
// host's network, which the user opts into, since its ports are the host's
// own and collide between worktrees. Joining another container's namespace
// (service:x, or container:x outside the stack, which Isolate reports as
// shared) leaves nothing to publish ports from.
func checkNetworkMode(s types.ServiceConfig, cfg Config) []string {
	mode := s.NetworkMode
	joins := strings.HasPrefix(mode, types.ServicePrefix) || strings.HasPrefix(mode, types.ContainerPrefix)
	var why string
	switch {
	case joins && len(s.Ports) > 0:
		target := strings.TrimPrefix(strings.TrimPrefix(mode, types.ServicePrefix), types.ContainerPrefix)
		return []string{fmt.Sprintf("service %q: key %q with network_mode %q is %s: a container in another's network namespace cannot publish ports (the engine refuses them, under Docker Compose too); publish them on %s instead",
			s.Name, "ports", mode, ErrUnsupported, target)}
	case mode == "", mode == "none", mode == "bridge", joins:
		return nil
	case mode == "host" && cfg.HostNetwork:
		return nil
	case mode == "host":
		why = "the host's network gives every worktree's stack the same ports, so two stacks collide; set host_network: true in wtenv.yaml to run it anyway"
	default:
		why = "a network is joined under networks:, which wtenv isolates per worktree"
	}
	return []string{fmt.Sprintf("service %q: key %q has value %q, which is %s: %s%s", s.Name, "network_mode", mode, ErrUnsupported, why, nextAction)}
}

const nextAction = "; remove it, or keep it in a compose file that wtenv.yaml's compose: does not list"

// find walks one service, network or volume and describes each problem.
func find(kind, name string, v any, rs rules) []string {
	return findAt(kind, name, v, rs, "")
}

// findAt is find for the part of a service found at key at.
func findAt(kind, name string, v any, rs rules, at string) []string {
	var problems []string
	walk(reflect.ValueOf(v), rs, at, func(key, detail, reason string) {
		msg := fmt.Sprintf("%s %q: key %q", kind, name, key)
		if detail != "" {
			msg += " has " + detail + ", which"
		}
		msg += " is " + ErrUnsupported.Error()
		if reason != "" {
			msg += ": " + reason
		}
		problems = append(problems, msg+nextAction)
	})
	return problems
}

// joined sorts and deduplicates the problems (two volumes of one service
// may share one) and joins them into one error.
func joined(problems []string) error {
	slices.Sort(problems)
	problems = slices.Compact(problems)
	errs := make([]error, len(problems))
	for i, msg := range problems {
		errs[i] = &unsupportedError{msg: msg}
	}
	return errors.Join(errs...)
}

// unsupportedError carries one problem; errors.Is matches ErrUnsupported.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string        { return e.msg }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }

// walk visits the fields of a compose struct by their yaml names. Pointers,
// maps and slices are transparent: the entries of depends_on or volumes are
// checked against the same rules. Fields without a yaml name (derived
// values) and x- extensions are never reported.
func walk(v reflect.Value, rs rules, at string, report func(key, detail, reason string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), rs, at, report)
		}
	case reflect.Map:
		for _, k := range sortedKeys(v) {
			walk(v.MapIndex(k), rs, at, report)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), rs, at, report)
		}
	case reflect.Struct:
		walkStruct(v, rs, at, report)
	}
}

func walkStruct(v reflect.Value, rs rules, at string, report func(key, detail, reason string)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || name == "-" || strings.HasPrefix(name, "#"):
			continue
		case name == "" && strings.Contains(opts, "inline"):
			walkStruct(v.Field(i), rs, at, report)
			continue
		case name == "":
			continue
		}
		key, fv := join(at, name), v.Field(i)
		r, ok := rs[name]
		if !ok || r.refuse != "" {
			if !zero(fv) {
				report(key, "", r.refuse)
			}
			continue
		}
		if r.value != nil {
			if detail := r.value(fv); detail != "" {
				report(key, detail, "")
			}
		}
		if r.keys != nil {
			walk(fv, r.keys, key, report)
		}
	}
}

// zero reports a value that says nothing: nil, empty, or a struct whose
// fields are all zero. The loader leaves empty structs behind (bind: {} for
// a short bind mount), which must not count as use of a key.
func zero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil() || zero(v.Elem())
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	case reflect.Struct:
		for i := range v.NumField() {
			if !zero(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return v.IsZero()
}

// sortedKeys returns a map's keys in a stable order, so problems come out
// the same way every run.
func sortedKeys(v reflect.Value) []reflect.Value {
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		return strings.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
	})
	return keys
}
