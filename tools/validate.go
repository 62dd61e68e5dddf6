package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	jskind "github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// inputSchema compiles the tool's input schema, which the call's arguments
// are checked against before its handler runs: types, ranges and names, as
// the client saw them in tools/list. The validator is the one mcp-go uses;
// wtenv runs it itself to word its failures for the model.
func inputSchema(tool mcp.Tool) *jsonschema.Schema {
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
	return s
}

// checkSchema validates the call's arguments against the compiled schema
// and words each failure as "argument "x" ...".
func checkSchema(s *jsonschema.Schema, req mcp.CallToolRequest) error {
	raw, err := json.Marshal(req.GetRawArguments())
	if err != nil {
		return fmt.Errorf("arguments: %v", err)
	}
	if string(raw) == "null" {
		raw = []byte("{}")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("arguments: %v", err)
	}
	verr, ok := s.Validate(v).(*jsonschema.ValidationError)
	if !ok || verr == nil {
		return nil
	}
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			msgs = append(msgs, describe(e))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	return fmt.Errorf("%s; correct the call and retry", strings.Join(msgs, "; "))
}

func describe(e *jsonschema.ValidationError) string {
	arg := "arguments"
	if len(e.InstanceLocation) > 0 {
		arg = fmt.Sprintf("argument %q", strings.Join(e.InstanceLocation, "."))
	}
	switch k := e.ErrorKind.(type) {
	case *jskind.Minimum:
		return fmt.Sprintf("%s must be at least %s, not %s", arg, k.Want.RatString(), k.Got.RatString())
	case *jskind.Maximum:
		return fmt.Sprintf("%s must be at most %s, not %s", arg, k.Want.RatString(), k.Got.RatString())
	case *jskind.Type:
		return fmt.Sprintf("%s must be %s, not %s", arg, strings.Join(k.Want, " or "), k.Got)
	case *jskind.AdditionalProperties:
		return fmt.Sprintf("unknown argument %s (the worktree is fixed when the server starts)", strings.Join(k.Properties, ", "))
	default:
		return fmt.Sprintf("%s: %s", arg, e.ErrorKind.LocalizedString(nil))
	}
}
