package server

import (
	"bytes"
	"strings"
	"testing"
)

// feed runs lines through the framing as the client's stream, then writes
// the responses mcp-go would give (respond maps each handed-on line to
// its response line, "" for none), and returns what reached the client.
func feed(t *testing.T, f *framing, out *bytes.Buffer, lines []string, respond func(string) string) (handed []string) {
	t.Helper()
	for _, l := range lines {
		for _, h := range f.filter([]byte(l)) {
			handed = append(handed, string(h))
		}
	}
	for _, h := range handed {
		if r := respond(h); r != "" {
			if _, err := f.Write([]byte(r + "\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	return handed
}

// echo answers each request with its id as the result, re-encoded as
// mcp-go re-encodes ids.
func echo(line string) string {
	key, ok := requestKey([]byte(line))
	if !ok {
		return ""
	}
	return `{"jsonrpc":"2.0","id":` + key + `,"result":{}}`
}

func initAt(f *framing, version string) {
	f.filter([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version + `"}}`))
	f.Write([]byte(`{"jsonrpc":"2.0","id":0,"result":{}}` + "\n"))
}

func TestFraming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		lines   []string
		respond func(string) string
		want    []string // lines the client gets, after initialize's
	}{{
		name:    "a batch at 2025-03-26 comes back as one array",
		version: "2025-03-26",
		lines:   []string{`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"a<b","method":"ping"}]`},
		respond: echo,
		want:    []string{`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"a\u003cb","result":{}}]`},
	}, {
		name:    "a client's own response in a batch is not awaited",
		version: "2025-03-26",
		lines:   []string{`[{"jsonrpc":"2.0","id":7,"result":{"roots":[]}},{"jsonrpc":"2.0","id":1.0,"method":"ping"}]`},
		respond: echo,
		want:    []string{`[{"jsonrpc":"2.0","id":1,"result":{}}]`},
	}, {
		name:    "a cancelled request in a batch does not hold the batch",
		version: "2025-03-26",
		lines:   []string{`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}`},
		respond: echo,
		want:    []string{`[{"jsonrpc":"2.0","id":1,"result":{}}]`},
	}, {
		name:    "a batch elsewhere is an invalid request",
		version: "2025-06-18",
		lines:   []string{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`},
		respond: echo,
		want:    []string{`"code":-32600`},
	}, {
		name:    "no method, non-object arguments, odd params",
		version: "2025-11-25",
		lines: []string{
			`{"jsonrpc":"2.0","id":"x"}`,
			`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"env_status","arguments":[1]}}`,
			`{"jsonrpc":"2.0","id":4,"method":"tools/list","params":[]}`,
		},
		respond: echo,
		want:    []string{`"id":"x","error":{"code":-32600`, `"id":3,"error":{"code":-32602`, `{"jsonrpc":"2.0","id":4,"result":{}}`},
	}, {
		name:    "a cancelled request gets no response; a late cancel is forgotten",
		version: "2025-11-25",
		lines: []string{
			`{"jsonrpc":"2.0","id":5,"method":"ping"}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}`,
		},
		respond: echo,
		want:    nil,
	}, {
		name:    "an id in flight is refused",
		version: "2025-11-25",
		lines:   []string{`{"jsonrpc":"2.0","id":6,"method":"ping"}`, `{"jsonrpc":"2.0","id":6,"method":"ping"}`},
		respond: func(string) string { return "" },
		want:    []string{`"id":6,"error":{"code":-32600,"message":"Invalid Request: id 6 is already used`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f := newFraming(&out, nil)
			initAt(f, tc.version)
			out.Reset()
			feed(t, f, &out, tc.lines, tc.respond)
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if out.Len() == 0 {
				got = nil
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(got), len(tc.want), out.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("line %d: %s\nwant it to hold %s", i, got[i], w)
				}
			}
			if len(f.dropped) != 0 || len(f.batches) != 0 {
				t.Errorf("left behind: dropped %v, batches %v", f.dropped, f.batches)
			}
		})
	}
}

// No progress notification follows its request's response, but a task's
// goes on after its CreateTaskResult.
func TestFramingNoProgressAfterTheResult(t *testing.T) {
	var out bytes.Buffer
	f := newFraming(&out, nil)
	initAt(f, "2025-11-25")
	out.Reset()
	progress := func(token string) string {
		return `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"` + token + `","progress":1}}` + "\n"
	}
	f.filter([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"env_up","_meta":{"progressToken":"up"}}}`))
	f.filter([]byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_unit_tests","task":{"ttl":60000},"_meta":{"progressToken":"unit"}}}`))
	for _, w := range []string{
		progress("up"), // before the result: kept
		`{"jsonrpc":"2.0","id":1,"result":{}}` + "\n", // the result
		progress("up"), // after it: dropped
		`{"jsonrpc":"2.0","id":2,"result":{"task":{}}}` + "\n",
		progress("unit"), // the task runs on: kept
	} {
		f.Write([]byte(w))
	}
	got := out.String()
	if strings.Count(got, `"progressToken":"up"`) != 1 || strings.Count(got, `"progressToken":"unit"`) != 1 {
		t.Errorf("got:\n%s", got)
	}
}
