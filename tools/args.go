package tools

import (
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// maxTimeoutS bounds every timeout_s: a day. Larger values are mistakes
// (and past about 292 years, an overflow of time.Duration).
const maxTimeoutS = 86400

// withRange adds minimum and maximum to integer arguments of the tool's
// input schema, so that clients see the ranges and the server rejects a
// call outside them before any handler runs. It must follow
// mcp.WithInputSchema. The schema is the only check: handlers trust the
// ranges.
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
