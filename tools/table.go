package tools

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// MarkdownTable renders the tools as the README's tool table, so the
// README is generated from the definitions and cannot drift from them.
func MarkdownTable(all []server.ServerTool) string {
	var b strings.Builder
	b.WriteString("| tool | arguments | hints | what it does |\n|---|---|---|---|\n")
	for _, st := range all {
		t := st.Tool
		var args []string
		props := inputProperties(t)
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			typ := props[name].typeName()
			if typ == "array" && props[name].Items != nil {
				typ = "[" + props[name].Items.typeName() + "]"
			}
			args = append(args, fmt.Sprintf("`%s` %s", name, typ))
		}
		if len(args) == 0 {
			args = []string{"—"}
		}
		var hints []string
		a := t.Annotations
		if a.ReadOnlyHint != nil && *a.ReadOnlyHint {
			hints = append(hints, "read-only")
		}
		if a.DestructiveHint != nil && *a.DestructiveHint {
			hints = append(hints, "destructive")
		}
		if a.IdempotentHint != nil && *a.IdempotentHint {
			hints = append(hints, "idempotent")
		}
		first, _, _ := strings.Cut(t.Description, ". ")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s. |\n", t.Name, strings.Join(args, ", "), strings.Join(hints, ", "), strings.TrimSuffix(first, "."))
	}
	return b.String()
}

type property struct {
	Type  any       `json:"type"` // a name, or a list such as ["null", "array"]
	Items *property `json:"items"`
}

// typeName is the property's JSON type, ignoring "null".
func (p property) typeName() string {
	switch t := p.Type.(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return "any"
}

// inputProperties reads the tool's input schema as clients see it on the
// wire, whichever way the schema was declared.
func inputProperties(t mcp.Tool) map[string]property {
	b, err := json.Marshal(t)
	if err != nil {
		return nil
	}
	var wire struct {
		InputSchema struct {
			Properties map[string]property `json:"properties"`
		} `json:"inputSchema"`
	}
	if json.Unmarshal(b, &wire) != nil {
		return nil
	}
	return wire.InputSchema.Properties
}
