package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// rawSession drives `wtenv serve` with hand-written JSON-RPC, as a client
// of one protocol revision would, and validates every frame the server
// writes against that revision's schema in testdata/mcp-schema (a copy
// of the specification's schemas, as published).
type rawSession struct {
	t       *testing.T
	version string
	schema  *revision
	stdin   io.WriteCloser
	mu      sync.Mutex
	methods map[string]string // request id → method (tools/call+task for task calls)
	waiting map[string]chan json.RawMessage
	notes   []json.RawMessage // notifications, in order
	frames  int               // frames validated
	arrays  int               // frames that were batch responses
	nextID  int
	cmd     *exec.Cmd
	// roots answers roots/list; rootsAsked counts the requests.
	roots      []string
	rootsAsked int
}

func rawConnect(t *testing.T, version, dir string, env ...string) *rawSession {
	t.Helper()
	s := &rawSession{t: t, version: version, schema: loadRevision(t, version), methods: map[string]string{}, waiting: map[string]chan json.RawMessage{}}
	logPath := filepath.Join(t.TempDir(), "serve.log")
	s.cmd = exec.Command(wtenvBinary(t), "serve", "--log-file", logPath)
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), env...)
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go s.read(out, done)
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
		}
		s.cmd.Wait()
		if b, err := os.ReadFile(logPath); t.Failed() && err == nil {
			t.Logf("wtenv serve log:\n%s", b)
		}
	})
	return s
}

func (s *rawSession) read(out io.Reader, done chan struct{}) {
	defer close(done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		if len(line) > 0 && line[0] == '[' {
			var arr []json.RawMessage
			if err := json.Unmarshal(line, &arr); err != nil {
				s.t.Errorf("server wrote a malformed batch: %s", line)
				continue
			}
			s.validate("JSONRPCBatchResponse", line)
			s.mu.Lock()
			s.arrays++
			s.mu.Unlock()
			for _, m := range arr {
				s.frame(m)
			}
			continue
		}
		s.frame(line)
	}
}

// frame validates one message and routes it.
func (s *rawSession) frame(m json.RawMessage) {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(m, &msg); err != nil {
		s.t.Errorf("server wrote a frame that is not a JSON object: %s", m)
		return
	}
	s.mu.Lock()
	s.frames++
	method := s.methods[string(msg.ID)]
	s.mu.Unlock()
	switch {
	case msg.Method != "" && msg.ID != nil:
		s.validate(s.schema.request, m)
		s.validate("ServerRequest", m)
		if msg.Method == "roots/list" {
			s.answerRoots(msg.ID)
		}
		return
	case msg.Method != "":
		s.validate("JSONRPCNotification", m)
		s.validate("ServerNotification", m)
		s.mu.Lock()
		s.notes = append(s.notes, m)
		s.mu.Unlock()
		return
	case msg.Error != nil:
		s.validate(s.schema.errorResponse, m)
	default:
		s.validate(s.schema.resultResponse, m)
		s.validate(resultDef(method, msg.Result), msg.Result)
	}
	s.mu.Lock()
	ch := s.waiting[string(msg.ID)]
	delete(s.waiting, string(msg.ID))
	s.mu.Unlock()
	if ch != nil {
		ch <- m
	}
}

func (s *rawSession) validate(def string, doc []byte) {
	s.t.Helper()
	if err := s.schema.validate(def, doc); err != nil {
		s.t.Errorf("at %s, a frame breaks %s: %v\n%s", s.version, def, err, doc)
	}
}

// resultDef names the schema of a method's result.
func resultDef(method string, result json.RawMessage) string {
	var r struct {
		ResultType string `json:"resultType"`
	}
	json.Unmarshal(result, &r)
	if r.ResultType == "input_required" {
		return "InputRequiredResult"
	}
	return map[string]string{
		"initialize":      "InitializeResult",
		"ping":            "EmptyResult",
		"tools/list":      "ListToolsResult",
		"tools/call":      "CallToolResult",
		"tools/call+task": "CreateTaskResult",
		"tasks/get":       "GetTaskResult",
		"tasks/result":    "CallToolResult",
		"tasks/cancel":    "CancelTaskResult",
		"tasks/list":      "ListTasksResult",
		"server/discover": "DiscoverResult",
	}[method]
}

func (s *rawSession) answerRoots(id json.RawMessage) {
	s.mu.Lock()
	s.rootsAsked++
	var roots []map[string]any
	for _, r := range s.roots {
		roots = append(roots, map[string]any{"uri": "file://" + r})
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"roots": roots}})
	s.send(string(b))
}

// send writes one raw line.
func (s *rawSession) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		s.t.Fatalf("writing to wtenv serve: %v", err)
	}
}

// expect registers a response awaited for id; kind is the method, for
// choosing the result's schema.
func (s *rawSession) expect(id, kind string) chan json.RawMessage {
	ch := make(chan json.RawMessage, 1)
	s.mu.Lock()
	s.methods[id], s.waiting[id] = kind, ch
	s.mu.Unlock()
	return ch
}

// call sends a request and returns its response, failing the test when
// none comes within limit (a client's request timeout).
func (s *rawSession) call(limit time.Duration, method string, params map[string]any) rpcResponse {
	s.t.Helper()
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	kind := method
	if _, ok := params["task"]; ok {
		kind += "+task"
	}
	ch := s.expect(fmt.Sprint(id), kind)
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": s.meta(params)})
	s.send(string(b))
	select {
	case m := <-ch:
		var r rpcResponse
		json.Unmarshal(m, &r)
		return r
	case <-time.After(limit):
		s.t.Fatalf("at %s, no answer to %s within %s", s.version, method, limit)
		return rpcResponse{}
	}
}

// meta adds the per-request _meta that 2026-07-28 requires.
func (s *rawSession) meta(params map[string]any) map[string]any {
	if s.version < "2026-07-28" {
		return params
	}
	if params == nil {
		params = map[string]any{}
	}
	m, _ := params["_meta"].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["io.modelcontextprotocol/protocolVersion"] = s.version
	m["io.modelcontextprotocol/clientInfo"] = map[string]any{"name": "wtenv-raw", "version": "1"}
	if _, ok := m["io.modelcontextprotocol/clientCapabilities"]; !ok {
		m["io.modelcontextprotocol/clientCapabilities"] = map[string]any{}
	}
	params["_meta"] = m
	return params
}

func (s *rawSession) notify(method string, params map[string]any) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": s.meta(params)})
	s.send(string(b))
}

// initialize performs the handshake of the revisions that have one.
func (s *rawSession) initialize(caps map[string]any) {
	s.t.Helper()
	if s.version >= "2026-07-28" {
		r := s.call(10*time.Second, "server/discover", nil)
		var d struct {
			SupportedVersions []string `json:"supportedVersions"`
		}
		json.Unmarshal(r.Result, &d)
		if !strings.Contains(strings.Join(d.SupportedVersions, " "), s.version) {
			s.t.Fatalf("server/discover lists %v, not %s", d.SupportedVersions, s.version)
		}
		return
	}
	if caps == nil {
		caps = map[string]any{}
	}
	r := s.call(10*time.Second, "initialize", map[string]any{"protocolVersion": s.version, "capabilities": caps, "clientInfo": map[string]any{"name": "wtenv-raw", "version": "1"}})
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	json.Unmarshal(r.Result, &res)
	if res.ProtocolVersion != s.version {
		s.t.Fatalf("initialize at %s negotiated %q", s.version, res.ProtocolVersion)
	}
	s.notify("notifications/initialized", nil)
}

type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// revision is one protocol revision's compiled schema.
type revision struct {
	c                                      *jsonschema.Compiler
	url, defs                              string
	request, errorResponse, resultResponse string
	mu                                     sync.Mutex
	compiled                               map[string]*jsonschema.Schema
}

func loadRevision(t *testing.T, version string) *revision {
	t.Helper()
	path := filepath.Join("testdata", "mcp-schema", version, "schema.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the MCP schema of %s: %v", version, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	r := &revision{c: jsonschema.NewCompiler(), url: "mem://mcp/" + version + ".json", compiled: map[string]*jsonschema.Schema{},
		defs: "definitions", request: "JSONRPCRequest", errorResponse: "JSONRPCError", resultResponse: "JSONRPCResponse"}
	if m, ok := doc.(map[string]any); ok {
		if _, ok := m["$defs"]; ok {
			r.defs = "$defs"
		}
		if d, ok := m[r.defs].(map[string]any); ok {
			if _, ok := d["JSONRPCErrorResponse"]; ok {
				r.errorResponse, r.resultResponse = "JSONRPCErrorResponse", "JSONRPCResultResponse"
			}
		}
	}
	if err := r.c.AddResource(r.url, doc); err != nil {
		t.Fatal(err)
	}
	return r
}

// validate checks doc against a definition; a definition the revision
// does not have is itself an error (a server request at 2026-07-28, say).
func (r *revision) validate(def string, doc []byte) error {
	if def == "" {
		return fmt.Errorf("no schema is known for this result")
	}
	r.mu.Lock()
	sch, ok := r.compiled[def]
	if !ok {
		var err error
		if sch, err = r.c.Compile(r.url + "#/" + r.defs + "/" + def); err != nil {
			r.mu.Unlock()
			return fmt.Errorf("this revision has no %s: %v", def, err)
		}
		r.compiled[def] = sch
	}
	r.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
