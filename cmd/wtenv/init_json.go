package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// mergeMCPJSON merges wtenv into the mcpServers object of an MCP JSON file
// (Claude Code's .mcp.json, Cursor's .cursor/mcp.json). Every other server
// and top-level key stays, byte for byte: wtenv's entry is spliced into the
// text, indented as the file indents. typed writes "type": "stdio", as
// Claude Code itself does.
func mergeMCPJSON(typed bool) func(string, []byte) (merged, error) {
	return func(_ string, old []byte) (merged, error) {
		entry := jsonObject{{key: "command", value: json.RawMessage(`"wtenv"`)}, {key: "args", value: json.RawMessage(`["serve"]`)}}
		if typed {
			entry = append(jsonObject{{key: "type", value: json.RawMessage(`"stdio"`)}}, entry...)
		}
		if len(bytes.TrimSpace(old)) == 0 {
			data, err := indentJSON(jsonObject{{key: "mcpServers", value: jsonObject{{key: "wtenv", value: entry.raw()}}.raw()}}, "", "  ")
			return merged{data: append(data, '\n'), changed: true}, err
		}
		if err := checkJSON(old); err != nil {
			return merged{}, err
		}
		top, err := parseJSONObject(old, 0)
		if err != nil {
			return merged{}, &parseError{msg: "its top level is not a JSON object"}
		}
		servers := jsonObject{}
		sm, hasServers := top.member("mcpServers")
		if hasServers {
			if servers, err = parseJSONObject(sm.value, sm.start); err != nil {
				return merged{}, &parseError{msg: `its "mcpServers" is not a JSON object`}
			}
		}
		var notes []string
		wm, hasWtenv := servers.member("wtenv")
		if hasWtenv {
			if isWtenvServer(wm.value) {
				return merged{data: old}, nil
			}
			// The entry's environment is the user's, not a way to start
			// wtenv: it stays.
			if cur, err := parseJSONObject(wm.value, 0); err == nil {
				if env, ok := cur.member("env"); ok {
					entry = append(entry, jsonMember{key: "env", value: env.value})
				}
			}
			notes = append(notes, fmt.Sprintf(`replaced the "wtenv" server entry, which was %s (an "env" in it is kept)`, compactJSON(wm.value)))
		}
		indent := jsonIndent(old)
		var data []byte
		switch {
		case hasWtenv:
			data, err = spliceJSON(old, wm.start, wm.end, "", entry, indent)
		case len(servers) > 0:
			last := servers[len(servers)-1]
			data, err = spliceJSON(old, last.end, last.end, ",\n"+lineIndent(old, last.start)+`"wtenv": `, entry, indent)
		case hasServers:
			data, err = spliceJSON(old, sm.start, sm.end, "", jsonObject{{key: "wtenv", value: entry.raw()}}, indent)
		case len(top) > 0:
			last := top[len(top)-1]
			data, err = spliceJSON(old, last.end, last.end, ",\n"+lineIndent(old, last.start)+`"mcpServers": `, jsonObject{{key: "wtenv", value: entry.raw()}}, indent)
		default:
			data, err = spliceJSON(old, bytes.IndexByte(old, '{'), bytes.LastIndexByte(old, '}')+1, "", jsonObject{{key: "mcpServers", value: jsonObject{{key: "wtenv", value: entry.raw()}}.raw()}}, indent)
		}
		if err != nil {
			return merged{}, err
		}
		if oneLine := !bytes.Contains(bytes.TrimSpace(old), []byte("\n")); oneLine || !sameJSONBut(old, data, entry.raw()) {
			// A file on one line is written by a program, not laid out by
			// hand; and a splice that did not give the old document plus
			// wtenv's entry met a layout it does not foresee. Either way
			// the object is encoded anew, its members still in order.
			servers.set("wtenv", entry.raw())
			top.set("mcpServers", servers.raw())
			if data, err = indentJSON(top, "", indent); err != nil {
				return merged{}, err
			}
			data = append(data, '\n')
		}
		return merged{data: data, changed: true, notes: notes}, nil
	}
}

// spliceJSON replaces data[from:to] with lead and v, v indented as the
// line at from is, one more indent a level.
func spliceJSON(data []byte, from, to int, lead string, v jsonObject, indent string) ([]byte, error) {
	text, err := indentJSON(v, lineIndent(data, from), indent)
	if err != nil {
		return nil, err
	}
	return slices.Concat(data[:from], []byte(lead), text, data[to:]), nil
}

// sameJSONBut reports whether after is before with mcpServers.wtenv set
// to entry, and nothing else changed.
func sameJSONBut(before, after []byte, entry json.RawMessage) bool {
	var b, a map[string]any
	var e any
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil || json.Unmarshal(entry, &e) != nil {
		return false
	}
	servers, _ := b["mcpServers"].(map[string]any)
	if servers == nil {
		servers = map[string]any{}
	}
	servers["wtenv"] = e
	b["mcpServers"] = servers
	return reflect.DeepEqual(a, b)
}

func indentJSON(v jsonObject, prefix, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// lineIndent is the leading blanks of the line that holds offset.
func lineIndent(data []byte, offset int) string {
	start := bytes.LastIndexByte(data[:offset], '\n') + 1
	end := start
	for end < len(data) && (data[end] == ' ' || data[end] == '\t') {
		end++
	}
	return string(data[start:end])
}

// isWtenvServer reports whether an mcpServers entry already starts
// `wtenv serve` over stdio.
func isWtenvServer(raw json.RawMessage) bool {
	var s struct {
		Type    string   `json:"type"`
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	return json.Unmarshal(raw, &s) == nil && s.Command == "wtenv" &&
		slices.Equal(s.Args, []string{"serve"}) && (s.Type == "" || s.Type == "stdio")
}

// checkJSON reports where data is not valid JSON.
func checkJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		line, col := lineCol(data, int(se.Offset))
		return &parseError{line: line, col: col, msg: "invalid JSON: " + se.Error()}
	}
	return err
}

// jsonObject is a JSON object that keeps its members in their order and
// the bytes of their values, which a Go map would not, and where each
// value lies in the text it was parsed from.
type jsonObject []jsonMember

type jsonMember struct {
	key   string
	value json.RawMessage
	// start and end are the value's offsets in the parsed document.
	start, end int
}

// parseJSONObject splits a JSON object into its members; it fails when
// data is not one object. base is data's offset in the document.
func parseJSONObject(data []byte, base int) (jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	o := jsonObject{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		end := base + int(dec.InputOffset())
		o = append(o, jsonMember{key: key, value: v, start: end - len(v), end: end})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return o, nil
}

func (o jsonObject) member(key string) (jsonMember, bool) {
	for _, m := range o {
		if m.key == key {
			return m, true
		}
	}
	return jsonMember{}, false
}

// set replaces the value of key where it stands, or appends it.
func (o *jsonObject) set(key string, v json.RawMessage) {
	for i, m := range *o {
		if m.key == key {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, jsonMember{key: key, value: v})
}

// raw is o encoded, members in order.
func (o jsonObject) raw() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(m.key)
		b.Write(key)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (o jsonObject) MarshalJSON() ([]byte, error) { return o.raw(), nil }

// jsonIndent is the indentation unit the file uses: the leading blanks of
// its first indented line, else two spaces.
func jsonIndent(data []byte) string {
	for line := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed != "" && len(trimmed) < len(line) {
			return line[:len(line)-len(trimmed)]
		}
	}
	return "  "
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
