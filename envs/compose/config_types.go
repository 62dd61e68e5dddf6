package compose

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// StringOrList is a command written either as a list of arguments or as one
// string. The string form is a shell script, as in a compose file's
// healthcheck test: it runs with sh -c.
type StringOrList struct {
	// Args are the arguments of the list form, or the one script of the
	// string form.
	Args []string
	// Shell reports the string form.
	Shell bool
}

// Argv returns the command to execute: the list as written, or sh -c with
// the script.
func (c StringOrList) Argv() []string {
	if c.Shell {
		return []string{"sh", "-c", c.Args[0]}
	}
	return slices.Clone(c.Args)
}

// UnmarshalYAML accepts a string or a list of strings.
func (c *StringOrList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*c = StringOrList{Shell: true}
		if strings.TrimSpace(s) != "" {
			c.Args = []string{s}
		}
		return nil
	case yaml.SequenceNode:
		var args []string
		if err := n.Decode(&args); err != nil {
			return err
		}
		*c = StringOrList{Args: args}
		return nil
	}
	return errors.New("command must be a string or a list of strings")
}

// Duration is a time.Duration written as Go writes it: 90s, 10m, 1h30m.
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return errors.New("timeout must be a duration such as 90s or 10m")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("timeout %q is not a duration; write it like 90s or 10m", s)
	}
	*d = Duration(v)
	return nil
}

// knownKeys reports, as file:line, the first mapping key under n that has
// no field in t,
// walking nested structs and maps by their yaml tags. Types with their own
// UnmarshalYAML check themselves.
func knownKeys(file string, n *yaml.Node, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind != yaml.MappingNode || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := knownKeys(file, n.Content[i+1], t.Elem(), join(at, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			f, ok := fields[key.Value]
			if !ok {
				return fmt.Errorf("%s:%d: unknown key %q%s; the keys here are %s",
					file, key.Line, key.Value, where(at), strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
			}
			if err := knownKeys(file, n.Content[i+1], f.Type, join(at, key.Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// yamlFields maps the yaml key of each field of struct t to the field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f
		}
	}
	return fields
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func where(at string) string {
	if at == "" {
		return ""
	}
	return " under " + at
}
