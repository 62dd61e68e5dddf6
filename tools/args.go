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

// maxTimeoutS bounds every timeout_s: a day. Larger values are mistakes
// (and past about 292 years, an overflow of time.Duration).
const maxTimeoutS = 86400

// checkTimeout checks a timeout_s argument; 0 means the default.
func checkTimeout(n int) error {
	if n < 0 || n > maxTimeoutS {
		return fmt.Errorf("argument \"timeout_s\" must be between 0 (the default) and %d seconds, not %d", maxTimeoutS, n)
	}
	return nil
}

// withRange adds minimum and maximum to integer arguments of the tool's
// input schema, so that clients see the ranges and the server rejects a
// call outside them before any handler runs. It must follow
// mcp.WithInputSchema. The handlers check the same ranges, so a server
// without schema validation still refuses them.
func withRange(ranges map[string][2]int) mcp.ToolOption {
	return func(t *mcp.Tool) {
		var schema map[string]any
		if err := json.Unmarshal(t.RawInputSchema, &schema); err != nil {
			panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err)) // a programming error, caught by the golden tests
		}
		props, _ := schema["properties"].(map[string]any)
		for name, r := range ranges {
			prop, ok := props[name].(map[string]any)
			if !ok {
				panic(fmt.Sprintf("tool %s: no argument %q to bound", t.Name, name))
			}
			prop["minimum"], prop["maximum"] = r[0], r[1]
		}
		raw, err := json.Marshal(schema)
		if err != nil {
			panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err))
		}
		t.RawInputSchema = raw
	}
}
