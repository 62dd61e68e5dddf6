package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
)

// framing sits between the client's stdio stream and mcp-go's stdio
// server, and does the JSON-RPC framing mcp-go leaves undone:
//   - a batch (an array of messages) is served where the negotiated
//     revision has batches (2025-03-26, where servers must accept them):
//     each message is handed on alone and the responses go back as one
//     array; elsewhere a batch is an invalid request;
//   - a message that is neither a request, a notification nor a response
//     (no method) is an invalid request (-32600), not an unknown method;
//   - tools/call arguments that are not an object are invalid params
//     (-32602), as 2025-11-25 asks, rather than a tool error;
//   - a request the client cancelled gets no response, as the
//     specification asks (mcp-go answers it with the handler's error);
//   - no progress notification follows the response to its request
//     (mcp-go queues notifications apart from responses, so a last one
//     could come after); a task's progress goes on after its
//     CreateTaskResult, as the task runs.
//
// Everything else passes through unchanged, line by line.
type framing struct {
	out      io.Writer
	mu       sync.Mutex        // guards everything below and writes to out
	pending  []byte            // output not yet ended by a newline
	version  string            // the revision initialize negotiated
	batches  map[string]*batch // a batched request's id → its batch
	dropped  map[string]bool   // ids of requests the client cancelled
	inflight map[string]bool   // ids of requests handed on and not answered
	tokenOf  map[string]string // id of a request in flight → its progress token
	finished map[string]bool   // progress tokens of answered requests
	logf     func(string, ...any)
}

type batch struct {
	want      int               // responses still awaited
	responses []json.RawMessage // in arrival order
}

// batchVersion is the one revision whose schema has JSON-RPC batches.
const batchVersion = mcp.ProtocolVersion20250326

func newFraming(out io.Writer, logf func(string, ...any)) *framing {
	return &framing{out: out, batches: map[string]*batch{}, dropped: map[string]bool{}, inflight: map[string]bool{}, tokenOf: map[string]string{}, finished: map[string]bool{}, logf: logf}
}

// input reads the client's stream and returns the stream mcp-go reads:
// the client's messages, one per line, less those answered here.
func (f *framing) input(in io.Reader) io.Reader {
	r, w := io.Pipe()
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
		for sc.Scan() {
			for _, line := range f.filter(bytes.TrimSpace(sc.Bytes())) {
				if _, err := w.Write(append(line, '\n')); err != nil {
					return
				}
			}
		}
		w.CloseWithError(sc.Err())
	}()
	return r
}

// filter answers what mcp-go would answer wrongly and returns the lines
// to hand on.
func (f *framing) filter(line []byte) [][]byte {
	if len(line) == 0 || !json.Valid(line) {
		return [][]byte{line} // mcp-go answers a parse error
	}
	if line[0] != '[' {
		if errResp := f.check(line); errResp != nil {
			f.write(errResp)
			return nil
		}
		return [][]byte{line}
	}
	var msgs []json.RawMessage
	_ = json.Unmarshal(line, &msgs)
	f.mu.Lock()
	version := f.version
	f.mu.Unlock()
	switch {
	case len(msgs) == 0:
		f.write(errorLine(nil, mcp.INVALID_REQUEST, "Invalid Request: an empty batch"))
		return nil
	case version != batchVersion:
		v := version
		if v == "" {
			v = "none negotiated yet"
		}
		f.write(errorLine(nil, mcp.INVALID_REQUEST, fmt.Sprintf("Invalid Request: JSON-RPC batches are part of protocol version %s only (this session: %s); send one message per line", batchVersion, v)))
		return nil
	}
	b := &batch{}
	var pass [][]byte
	f.mu.Lock()
	for _, m := range msgs {
		m = bytes.TrimSpace(m)
		if errResp := f.checkLocked(m); errResp != nil {
			b.responses = append(b.responses, errResp)
			continue
		}
		if key, ok := requestKey(m); ok {
			b.want++
			f.batches[key] = b
		}
		pass = append(pass, m)
	}
	if b.want == 0 && len(b.responses) > 0 {
		f.flushLocked(b)
	}
	f.mu.Unlock()
	return pass
}

func (f *framing) check(m []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkLocked(m)
}

// checkLocked returns the error response for one message, or nil to hand
// it on. It notes the revision an initialize request asks for, the
// requests in flight (an id already in flight is refused: its responses
// could not be told apart) and the ones the client cancels.
func (f *framing) checkLocked(m []byte) []byte {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method json.RawMessage `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
		Params json.RawMessage `json:"params"`
	}
	if len(m) == 0 || m[0] != '{' || json.Unmarshal(m, &msg) != nil {
		return errorLine(nil, mcp.INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
	}
	id := validID(msg.ID)
	if msg.Method == nil {
		if msg.Result != nil || msg.Error != nil {
			return nil // the client's answer to a request of ours
		}
		return errorLine(id, mcp.INVALID_REQUEST, `Invalid Request: no "method"`)
	}
	var method string
	if json.Unmarshal(msg.Method, &method) != nil {
		return errorLine(id, mcp.INVALID_REQUEST, `Invalid Request: "method" must be a string`)
	}
	// The params' fields, read leniently: mcp-go judges the rest.
	var params struct {
		ProtocolVersion any             `json:"protocolVersion"`
		Arguments       json.RawMessage `json:"arguments"`
		RequestID       json.RawMessage `json:"requestId"`
		Task            json.RawMessage `json:"task"`
		Meta            struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	_ = json.Unmarshal(msg.Params, &params)
	switch method {
	case string(mcp.MethodNotificationCancelled):
		if key, ok := idKey(params.RequestID); ok && f.inflight[key] {
			f.dropped[key] = true
		}
	case string(mcp.MethodInitialize):
		v, _ := params.ProtocolVersion.(string)
		f.version = mcp.NegotiateLegacyVersion(v)
	case string(mcp.MethodToolsCall):
		if a := bytes.TrimSpace(params.Arguments); len(a) > 0 && a[0] != '{' && string(a) != "null" {
			return errorLine(id, mcp.INVALID_PARAMS, "Invalid params: tools/call arguments must be an object of named arguments")
		}
	}
	if key, ok := idKey(msg.ID); ok {
		if f.inflight[key] {
			return errorLine(id, mcp.INVALID_REQUEST, "Invalid Request: id "+string(id)+" is already used by a request in flight; give each request its own id")
		}
		f.inflight[key] = true
		if token, ok := idKey(params.Meta.ProgressToken); ok && len(params.Task) == 0 {
			f.tokenOf[key] = token
			delete(f.finished, token)
		}
	}
	return nil
}

// lateProgress reports a progress notification for a request already
// answered.
func (f *framing) lateProgress(line []byte) bool {
	var n struct {
		Method string `json:"method"`
		Params struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"params"`
	}
	if json.Unmarshal(line, &n) != nil || n.Method != string(mcp.MethodNotificationProgress) {
		return false
	}
	token, ok := idKey(n.Params.ProgressToken)
	return ok && f.finished[token]
}

// answered notes that the request with id key has its response: its
// progress token is finished.
func (f *framing) answered(key string) {
	token, ok := f.tokenOf[key]
	if !ok {
		return
	}
	delete(f.tokenOf, key)
	if len(f.finished) > 10000 {
		clear(f.finished) // a bound; tokens this old are not reused
	}
	f.finished[token] = true
}

// Write takes mcp-go's output; a response to a batched request waits for
// the rest of its batch.
func (f *framing) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, p...)
	for {
		i := bytes.IndexByte(f.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := bytes.Clone(f.pending[:i])
		f.pending = f.pending[i+1:]
		if err := f.route(line); err != nil {
			return len(p), err
		}
	}
}

func (f *framing) route(line []byte) error {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method json.RawMessage `json:"method"`
	}
	if f.lateProgress(line) {
		return nil
	}
	if json.Unmarshal(line, &msg) == nil && msg.Method == nil {
		if key, ok := idKey(msg.ID); ok {
			delete(f.inflight, key)
			f.answered(key)
			dropped := f.dropped[key]
			delete(f.dropped, key)
			if b, ok := f.batches[key]; ok {
				delete(f.batches, key)
				if !dropped {
					b.responses = append(b.responses, line)
				}
				if b.want--; b.want == 0 && len(b.responses) > 0 {
					return f.flushLocked(b)
				}
				return nil
			}
			if dropped {
				return nil
			}
		}
	}
	_, err := f.out.Write(append(fixInputRequests(line), '\n'))
	return err
}

// fixInputRequests gives each roots/list input request of an
// input_required result an empty params object. mcp-go writes the request
// without params, which the schema allows, but which the official go-sdk
// client fails to decode ("unexpected end of JSON input"), losing the
// call.
func fixInputRequests(line []byte) []byte {
	if !bytes.Contains(line, []byte(`"input_required"`)) {
		return line
	}
	var msg map[string]json.RawMessage
	if json.Unmarshal(line, &msg) != nil {
		return line
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(msg["result"], &res) != nil {
		return line
	}
	var reqs map[string]map[string]json.RawMessage
	if json.Unmarshal(res["inputRequests"], &reqs) != nil {
		return line
	}
	for _, r := range reqs {
		if _, ok := r["params"]; !ok {
			r["params"] = json.RawMessage("{}")
		}
	}
	var err error
	if res["inputRequests"], err = json.Marshal(reqs); err != nil {
		return line
	}
	if msg["result"], err = json.Marshal(res); err != nil {
		return line
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return line
	}
	return out
}

func (f *framing) flushLocked(b *batch) error {
	arr, err := json.Marshal(b.responses)
	if err != nil {
		return err
	}
	_, err = f.out.Write(append(arr, '\n'))
	return err
}

// write sends one line of our own.
func (f *framing) write(line []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.out.Write(append(line, '\n')); err != nil && f.logf != nil {
		f.logf("writing an error response: %v", err)
	}
}

// requestKey returns a request's id key; notifications and responses
// have none.
func requestKey(m []byte) (string, bool) {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method json.RawMessage `json:"method"`
	}
	if json.Unmarshal(m, &msg) != nil || msg.Method == nil {
		return "", false
	}
	return idKey(msg.ID)
}

// idKey is an id as mcp-go writes it back: decoded and encoded again, so
// that "a<b" and "a\u003cb", or 1.0 and 1, are one id.
func idKey(raw json.RawMessage) (string, bool) {
	if validID(raw) == nil {
		return "", false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// validID returns id when it is a string or a number, as JSON-RPC allows;
// otherwise nil (the error's id is then null).
func validID(id json.RawMessage) json.RawMessage {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || (id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9')) {
		return nil
	}
	return id
}

func errorLine(id json.RawMessage, code int, message string) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: mcp.JSONRPC_VERSION, ID: id, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message}})
	return b
}
