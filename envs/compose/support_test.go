package compose

import (
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// ruleSets are compose-go's types with the rules Check applies to them.
var ruleSets = []struct {
	what string
	t    reflect.Type
	rs   rules
}{
	{"service", reflect.TypeFor[types.ServiceConfig](), serviceRules},
	{"network", reflect.TypeFor[types.NetworkConfig](), networkRules},
	{"volume", reflect.TypeFor[types.VolumeConfig](), volumeRules},
	{"secret or config", reflect.TypeFor[types.FileObjectConfig](), fileObjectRules},
}

// TestEveryKeyHasARule walks compose-go's types and fails for every key
// that has no rule: a key the loader learns in a new version must be
// either run or refused by name, never dropped without a word.
func TestEveryKeyHasARule(t *testing.T) {
	for _, c := range ruleSets {
		for _, key := range uncovered(c.t, c.rs, "") {
			t.Errorf("%s key %q has no rule in support.go: run it (and say how in a rule) or refuse it with the reason", c.what, key)
		}
	}
}

// uncovered lists the yaml keys of struct t (and, under rules that list
// keys, of the structs they hold) that rs does not name.
func uncovered(t reflect.Type, rs rules, at string) []string {
	t = element(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || name == "-" || strings.HasPrefix(name, "#"):
			continue
		case name == "" && strings.Contains(opts, "inline"):
			out = append(out, uncovered(f.Type, rs, at)...)
			continue
		case name == "":
			continue
		}
		r, ok := rs[name]
		switch {
		case !ok:
			out = append(out, join(at, name))
		case r.keys != nil:
			out = append(out, uncovered(f.Type, r.keys, join(at, name))...)
		}
	}
	return out
}

// element is the struct a field holds through pointers, slices and maps.
func element(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}

// TestRulesNameRealKeys fails for a rule whose key compose-go does not
// have: a misspelt rule would accept nothing and hide the key it meant.
func TestRulesNameRealKeys(t *testing.T) {
	for _, c := range ruleSets {
		for _, key := range unknownRules(c.t, c.rs, "") {
			t.Errorf("%s rule %q names no key of compose-go's types", c.what, key)
		}
	}
}

func unknownRules(t reflect.Type, rs rules, at string) []string {
	fields := map[string]reflect.Type{}
	var collect func(reflect.Type)
	collect = func(t reflect.Type) {
		for f := range element(t).Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" && strings.Contains(opts, "inline") {
				collect(f.Type)
			} else if name != "" {
				fields[name] = f.Type
			}
		}
	}
	collect(t)
	var out []string
	for key, r := range rs {
		ft, ok := fields[key]
		if !ok {
			out = append(out, join(at, key))
			continue
		}
		if r.keys != nil {
			out = append(out, unknownRules(ft, r.keys, join(at, key))...)
		}
	}
	return out
}
