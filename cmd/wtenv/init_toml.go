package main

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// A TOML host file is edited as text, not decoded and encoded again: the
// keys wtenv sets are replaced where they stand or added to their table,
// and every other byte (comments, order, blank lines) stays. go-toml can
// decode and encode but not edit a document in place, so its parser only
// locates the table; the result is decoded again and must equal the old
// document with exactly those keys set.

// tomlKey is one key wtenv sets in a table, with its value: a string, an
// int64, or a []any of strings.
type tomlKey struct {
	name  string
	value any
}

// decodeTOML parses a host file; its errors name the line and column.
func decodeTOML(data []byte) (map[string]any, error) {
	doc := map[string]any{}
	err := toml.Unmarshal(data, &doc)
	if de, ok := errors.AsType[*toml.DecodeError](err); ok {
		line, col := de.Position()
		return nil, &parseError{line: line, col: col, msg: "invalid TOML: " + strings.TrimPrefix(de.Error(), "toml: ")}
	}
	return doc, err
}

// tableAt is the table at path in doc, nil when there is none.
func tableAt(doc map[string]any, path ...string) (map[string]any, error) {
	cur := doc
	for i, part := range path {
		v, ok := cur[part]
		if !ok {
			return nil, nil
		}
		if cur, ok = v.(map[string]any); !ok {
			return nil, &parseError{msg: fmt.Sprintf("%s is not a table (it is %T); wtenv writes its settings into a table there", strings.Join(path[:i+1], "."), v)}
		}
	}
	return cur, nil
}

// setTOMLKeys sets keys in the table at path of the document data (doc is
// data decoded). rewrote is set when the table is laid out in a way the
// text edit does not handle (keys of it outside its [header], an inline
// table), and the whole document was encoded anew: every key is kept,
// comments and order are not.
func setTOMLKeys(data []byte, doc map[string]any, path []string, keys []tomlKey) (out []byte, rewrote bool, err error) {
	if len(keys) == 0 {
		return data, false, nil
	}
	want := withKeys(doc, path, keys)
	loc, err := locateTable(data, path)
	if err != nil {
		return nil, false, err
	}
	if !loc.scattered {
		out = editTable(data, path, loc, keys)
		if got, err := decodeTOML(out); err == nil && reflect.DeepEqual(got, want) {
			return out, false, nil
		}
	}
	out, err = toml.Marshal(want)
	if err != nil {
		return nil, false, err
	}
	if got, err := decodeTOML(out); err != nil || !reflect.DeepEqual(got, want) {
		return nil, false, fmt.Errorf("could not merge %s into the file; add it by hand", strings.Join(path, "."))
	}
	return out, true, nil
}

// withKeys is a copy of doc with keys set in the table at path.
func withKeys(doc map[string]any, path []string, keys []tomlKey) map[string]any {
	out := maps.Clone(doc)
	cur := out
	for _, part := range path {
		next, _ := cur[part].(map[string]any)
		next = maps.Clone(next)
		if next == nil {
			next = map[string]any{}
		}
		cur[part] = next
		cur = next
	}
	for _, k := range keys {
		cur[k.name] = k.value
	}
	return out
}

// tableLoc is where a table's text lies in a document.
type tableLoc struct {
	header int // offset just past its [header] line; -1 without one
	end    int // offset just past its last key-value line
	// values are the byte ranges of its one-part keys' values.
	values map[string][2]int
	// scattered is set when keys of the table are defined outside its
	// header: dotted keys from a parent table, or an inline table.
	scattered bool
}

func locateTable(data []byte, path []string) (tableLoc, error) {
	loc := tableLoc{header: -1, end: -1, values: map[string][2]int{}}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	inside := false
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var last int
			table, last = keyParts(e.Key())
			inside = e.Kind == unstable.Table && slices.Equal(table, path)
			if inside {
				loc.header = lineEnd(data, last)
				loc.end = loc.header
			}
			if e.Kind == unstable.ArrayTable && slices.Equal(table, path) {
				loc.scattered = true
			}
		case unstable.KeyValue:
			key, last := keyParts(e.Key())
			full := append(slices.Clone(table), key...)
			end := int(e.Raw.Offset + e.Raw.Length)
			switch {
			case inside:
				loc.end = lineEnd(data, end)
				if len(key) == 1 {
					loc.values[key[0]] = [2]int{valueStart(data, last), end}
				}
			case hasPrefix(path, full) || (hasPrefix(full, path) && !hasPrefix(table, path)):
				loc.scattered = true
			}
		}
	}
	return loc, p.Error()
}

// editTable sets keys in the table loc locates: a value is replaced where
// it stands, a new key goes after the table's last one, and a table the
// document lacks is added at its end.
func editTable(data []byte, path []string, loc tableLoc, keys []tomlKey) []byte {
	var add strings.Builder
	type splice struct {
		from, to int
		text     string
	}
	var splices []splice
	for _, k := range keys {
		if r, ok := loc.values[k.name]; ok {
			splices = append(splices, splice{r[0], r[1], tomlLiteral(k.value)})
		} else {
			fmt.Fprintf(&add, "%s = %s\n", k.name, tomlLiteral(k.value))
		}
	}
	if loc.header < 0 {
		var b bytes.Buffer
		b.Write(data)
		if len(bytes.TrimSpace(data)) > 0 {
			if !bytes.HasSuffix(data, []byte("\n")) {
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n%s", dottedKey(path), add.String())
		return b.Bytes()
	}
	if add.Len() > 0 {
		text := add.String()
		if loc.end == len(data) && len(data) > 0 && data[len(data)-1] != '\n' {
			text = "\n" + text
		}
		splices = append(splices, splice{loc.end, loc.end, text})
	}
	sort.Slice(splices, func(i, j int) bool { return splices[i].from > splices[j].from })
	out := slices.Clone(data)
	for _, s := range splices {
		out = slices.Concat(out[:s.from], []byte(s.text), out[s.to:])
	}
	return out
}

// keyParts are the parts of a dotted key and the offset just past it.
func keyParts(it unstable.Iterator) ([]string, int) {
	var parts []string
	end := 0
	for it.Next() {
		n := it.Node()
		parts = append(parts, string(n.Data))
		end = int(n.Raw.Offset + n.Raw.Length)
	}
	return parts, end
}

func hasPrefix(s, prefix []string) bool {
	return len(s) >= len(prefix) && slices.Equal(s[:len(prefix)], prefix)
}

func lineEnd(data []byte, from int) int {
	if i := bytes.IndexByte(data[from:], '\n'); i >= 0 {
		return from + i + 1
	}
	return len(data)
}

// valueStart is where the value of a key-value starts, given the offset
// just past its key.
func valueStart(data []byte, keyEnd int) int {
	i := keyEnd + bytes.IndexByte(data[keyEnd:], '=') + 1
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	return i
}

func dottedKey(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = tomlKeyPart(p)
	}
	return strings.Join(parts, ".")
}

func tomlKeyPart(k string) string {
	bare := k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
	if bare {
		return k
	}
	return tomlString(k)
}

// tomlLiteral writes a value as TOML.
func tomlLiteral(v any) string {
	switch v := v.(type) {
	case string:
		return tomlString(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = tomlLiteral(e)
		}
		if line := "[" + strings.Join(parts, ", ") + "]"; len(line) <= 80 {
			return line
		}
		// A long list reads better, and diffs better, one element a line.
		return "[\n  " + strings.Join(parts, ",\n  ") + ",\n]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = tomlKeyPart(k) + " = " + tomlLiteral(v[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	default:
		// Anything else (a float, a date) is only ever written back as it
		// was read: go-toml writes it.
		b, _ := toml.Marshal(map[string]any{"v": v})
		return strings.TrimPrefix(strings.TrimSpace(string(b)), "v = ")
	}
}

// tomlString is a TOML string of s: literal (as written, no escapes) when
// s allows it, so a script with quotes or backslashes reads as it was
// written; multi-line when s holds a newline.
func tomlString(s string) string {
	multi := strings.Contains(s, "\n")
	literal := !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f })
	switch {
	case multi && literal && !strings.Contains(s, "'''"):
		return "'''\n" + s + "'''"
	case !multi && literal && strings.ContainsAny(s, `"\`) && !strings.Contains(s, "'"):
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
