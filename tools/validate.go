package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	jskind "github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/wtenv/wtenv/envs"
)

// input is a tool's compiled input schema, the one check of a call's
// arguments: their names, types and ranges, exactly as the client saw them
// in tools/list. Arguments that pass it are decoded into the tool's typed
// struct; the handlers check nothing again. The validator is the one
// mcp-go uses; wtenv runs it itself to word its failures for the model.
type input struct {
	schema *jsonschema.Schema
	names  []string // the arguments the tool takes, sorted
}

func compileInput(tool mcp.Tool) input {
	raw := tool.RawInputSchema
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(tool.InputSchema); err != nil {
			panic(fmt.Sprintf("tool %s: input schema: %v", tool.Name, err))
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", tool.Name, err))
	}
	c := jsonschema.NewCompiler()
	url := "mem://tools/" + tool.Name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", tool.Name, err))
	}
	s, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", tool.Name, err)) // a programming error the golden tests catch
	}
	var names []string
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return input{schema: s, names: names}
}

// argError is a call whose arguments the input schema refuses. Its message
// is worded for the model and names the argument; it is an
// envs.ErrInvalidArguments, so its kind is invalid_arguments.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }
func (e *argError) Unwrap() error { return envs.ErrInvalidArguments }

// decode checks the call's arguments against the schema and decodes them
// into the struct that into points to. Absent or null arguments are an
// empty object.
func (in input) decode(req mcp.CallToolRequest, into any) error {
	v, err := arguments(req)
	if err != nil {
		return &argError{fmt.Sprintf("arguments are not valid JSON (%v); send an object of named arguments", err)}
	}
	if err := in.schema.Validate(v); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return &argError{fmt.Sprintf("arguments: %v", err)}
		}
		return &argError{in.word(verr)}
	}
	raw, err := json.Marshal(integral(v))
	if err == nil {
		err = json.Unmarshal(raw, into)
	}
	if err != nil {
		// The schema is generated from the struct, so whatever it accepts
		// decodes; a failure here is wtenv's bug, not the caller's.
		return fmt.Errorf("internal error: arguments %s passed the input schema but do not decode: %v", raw, err)
	}
	return nil
}

// arguments returns the call's arguments as the validator reads them:
// numbers kept exact, nothing coerced.
func arguments(req mcp.CallToolRequest) (any, error) {
	var raw []byte
	switch a := req.GetRawArguments().(type) {
	case nil:
	case json.RawMessage:
		raw = a
	default:
		var err error
		if raw, err = json.Marshal(a); err != nil {
			return nil, err
		}
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return map[string]any{}, nil
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// integral rewrites each whole number as plain digits: JSON Schema counts
// 1e2 and 100.0 as the integer 100, and so must the decoder, which
// refuses both for an int field.
func integral(v any) any {
	switch v := v.(type) {
	case json.Number:
		if r, ok := new(big.Rat).SetString(string(v)); ok && r.IsInt() {
			return json.Number(r.Num().String())
		}
	case map[string]any:
		for k, x := range v {
			v[k] = integral(x)
		}
	case []any:
		for i, x := range v {
			v[i] = integral(x)
		}
	}
	return v
}

// word turns every leaf failure of the validation into a sentence that
// names the argument and what it must be.
func (in input) word(verr *jsonschema.ValidationError) string {
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			msgs = append(msgs, in.describe(e))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	sort.Strings(msgs) // the validator walks objects in map order
	return strings.Join(slices.Compact(msgs), "; ")
}

// fixed ends every message about the arguments a tool takes, since the
// first thing a model tries is to name another worktree.
const fixed = "(the worktree is fixed once the server is bound to it)"

func (in input) describe(e *jsonschema.ValidationError) string {
	arg := "arguments"
	if loc := e.InstanceLocation; len(loc) > 0 {
		arg = loc[0]
		for _, i := range loc[1:] {
			arg += "[" + i + "]"
		}
		arg = fmt.Sprintf("argument %q", arg)
	}
	switch k := e.ErrorKind.(type) {
	case *jskind.Minimum:
		return fmt.Sprintf("%s must be at least %s, not %s", arg, k.Want.RatString(), k.Got.RatString())
	case *jskind.Maximum:
		return fmt.Sprintf("%s must be at most %s, not %s", arg, k.Want.RatString(), k.Got.RatString())
	case *jskind.Type:
		if len(e.InstanceLocation) == 0 {
			return fmt.Sprintf("arguments must be an object of named arguments, not %s; %s %s", k.Got, in.takes(), fixed)
		}
		return fmt.Sprintf("%s must be %s, not %s", arg, want(in.schemaAt(e.InstanceLocation), k.Want), k.Got)
	case *jskind.AdditionalProperties:
		props := slices.Sorted(slices.Values(k.Properties))
		quoted := make([]string, len(props))
		for i, p := range props {
			quoted[i] = fmt.Sprintf("%q", p)
		}
		noun := "argument"
		if len(props) > 1 {
			noun = "arguments"
		}
		return fmt.Sprintf("unknown %s %s; %s %s", noun, strings.Join(quoted, ", "), in.takes(), fixed)
	default:
		// No schema of ours has other keywords; a leaf's own text names
		// its location.
		return "the arguments break the input schema " + e.Error()
	}
}

// takes lists the tool's arguments for a message.
func (in input) takes() string {
	if len(in.names) == 0 {
		return "this tool takes no arguments"
	}
	return "this tool takes only " + strings.Join(in.names, ", ")
}

// schemaAt returns the subschema that governs the value at loc: a
// property's, or an array's items'. It returns nil when there is none.
func (in input) schemaAt(loc []string) *jsonschema.Schema {
	s := in.schema
	for i, seg := range loc {
		if s == nil {
			return nil
		}
		if i == 0 {
			s = s.Properties[seg]
		} else {
			s = s.Items2020
		}
	}
	return s
}

// want words the type a value must have: "an array of strings" rather
// than the schema's "null or array". Null is accepted where the schema
// says so, but it is never what the model meant to send.
func want(s *jsonschema.Schema, types []string) string {
	if s != nil && s.Types != nil {
		types = s.Types.ToStrings()
	}
	types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	if len(types) == 0 {
		return "null"
	}
	var out []string
	for _, t := range types {
		if t == "array" && s != nil && s.Items2020 != nil && s.Items2020.Types != nil {
			if item := s.Items2020.Types.ToStrings(); len(item) == 1 {
				out = append(out, "an array of "+item[0]+"s")
				continue
			}
		}
		out = append(out, article(t))
	}
	return strings.Join(out, " or ")
}

func article(t string) string {
	switch t {
	case "array", "integer", "object":
		return "an " + t
	}
	return "a " + t
}
