package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// bindArgs decodes the call's arguments into the struct that into points
// to. An unknown argument or a wrong type is an error that names the
// argument, so the model can correct its call.
func bindArgs(req mcp.CallToolRequest, into any) error {
	raw, err := json.Marshal(req.GetRawArguments())
	if err != nil {
		return fmt.Errorf("arguments: %v", err)
	}
	if string(raw) == "null" {
		return nil
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal(raw, &given); err != nil {
		return errors.New("arguments must be a JSON object")
	}
	known := argNames(into)
	for name := range given {
		if !known[name] {
			return fmt.Errorf("unknown argument %q; this tool takes %s (the worktree is fixed when the server starts)", name, list(known))
		}
	}
	if err := json.Unmarshal(raw, into); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("argument %q must be %s, not %s", te.Field, kind(te.Type), te.Value)
		}
		return fmt.Errorf("arguments: %v", err)
	}
	return nil
}

// argNames lists the JSON names of the struct's fields.
func argNames(v any) map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

func list(names map[string]bool) string {
	if len(names) == 0 {
		return "no arguments"
	}
	var s []string
	for n := range names {
		s = append(s, n)
	}
	sort.Strings(s)
	return "only " + strings.Join(s, ", ")
}

func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		elem := strings.TrimPrefix(strings.TrimPrefix(kind(t.Elem()), "an "), "a ")
		return "an array of " + elem + "s"
	}
	return t.String()
}
