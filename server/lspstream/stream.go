// Package lspstream frames JSON-RPC messages the way the Language Server
// Protocol does (Content-Length headers) and, unlike jsonrpc2.NewStream,
// survives any peer: it accepts any header case, caps header lines, bodies
// and nesting, answers a malformed message with a JSON-RPC error and
// resynchronises on the next Content-Length header instead of closing the
// connection; a peer that stops reading cannot wedge Flush or Close; and it
// keeps every request id exactly as the peer spelled it (jsonrpc2 v0.10
// holds ids as int32: large, fractional or duplicate ids would be lost or
// confused), handing jsonrpc2 an id of its own for each request.
package lspstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/claude-bridge/claude-bridge/internal/jsondepth"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
)

// DefaultMaxMessage caps one incoming message. A didOpen of a large file is a
// few MB; anything past this is refused, not allocated.
const DefaultMaxMessage = 128 << 20

// MaxDepth caps the nesting of an incoming message (see jsondepth).
const MaxDepth = 512

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("the stream is closed")

// ErrBusy is returned by a write that would wait (TryNotify, TryRespond):
// the peer is not reading and the queue is full.
var ErrBusy = errors.New("the editor is not reading; message dropped")

// queueLen bounds the frames waiting for the writer: past it, writers
// wait (the peer's pace), never for longer than Close.
const queueLen = 1024

// Stream is a jsonrpc2.Stream over a reader and a writer.
//
// Writes are queued, in order, to one writer goroutine that batches the
// frames queued meanwhile into one write(2): a task streaming thousands of
// events costs a few syscalls, not one per event. No lock is held while a
// writer waits for room in the queue, and Close wakes every such writer.
//
// Goroutines: the writer (started by New; ends when Close is called and
// what was queued is written, or when the output fails).
type Stream struct {
	in    *frameReader
	rc    io.Closer
	out   io.Writer
	wc    io.Closer
	onBad func(error)

	queue      chan []byte   // frames for the writer; never closed
	closing    chan struct{} // closed by Close: writers stop waiting
	writerDone chan struct{} // closed when the writer has ended
	wrote      chan struct{} // a token after each batch the writer wrote (for Flush)
	queued     atomic.Int64  // frames accepted
	written    atomic.Int64  // frames written (or dropped after a failure)
	closeOnce  sync.Once

	errMu sync.Mutex // guards err
	err   error      // the first write error; every later write returns it

	idMu  sync.Mutex                 // guards ids and idSeq
	ids   map[string]json.RawMessage // our id for a request in flight → the peer's id
	idSeq int64

	callsMu sync.Mutex           // guards calls
	calls   map[jsonrpc2.ID]bool // requests we sent whose response has not come (nor Forget)
}

// Options tune a Stream.
type Options struct {
	MaxMessage    int64       // 0 = DefaultMaxMessage
	MaxHeaderLine int         // 0 = DefaultMaxHeaderLine
	OnBad         func(error) // told of every message refused (for logging)
}

// New makes a Stream reading r and writing w. Close closes both when they
// are io.Closers.
func New(r io.Reader, w io.Writer, o Options) *Stream {
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.MaxHeaderLine <= 0 {
		o.MaxHeaderLine = DefaultMaxHeaderLine
	}
	s := &Stream{
		in: newFrameReader(r, o.MaxMessage, o.MaxHeaderLine), out: w, onBad: o.OnBad,
		queue: make(chan []byte, queueLen), closing: make(chan struct{}), writerDone: make(chan struct{}),
		wrote: make(chan struct{}, 1), ids: map[string]json.RawMessage{}, calls: map[jsonrpc2.ID]bool{},
	}
	if c, ok := r.(io.Closer); ok {
		s.rc = c
	}
	if c, ok := w.(io.Closer); ok {
		s.wc = c
	}
	go s.writeLoop()
	return s
}

// writeLoop owns the output: it writes the queued frames, flushing whenever
// the queue runs dry; after Close it writes what is left and ends.
func (s *Stream) writeLoop() {
	defer close(s.writerDone)
	bw := bufio.NewWriterSize(s.out, 64<<10)
	for {
		var frame []byte
		select {
		case frame = <-s.queue:
		case <-s.closing:
			select {
			case frame = <-s.queue:
			default:
				return
			}
		}
		_, err := bw.Write(frame)
		n := int64(1)
		for err == nil && len(s.queue) > 0 {
			_, err = bw.Write(<-s.queue)
			n++
		}
		if err == nil {
			err = bw.Flush()
		}
		s.written.Add(n)
		select {
		case s.wrote <- struct{}{}:
		default:
		}
		if err != nil {
			s.errMu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.errMu.Unlock()
			for { // drop what comes: the output is gone
				select {
				case <-s.queue:
					s.written.Add(1)
				case <-s.closing:
					return
				}
			}
		}
	}
}

func (s *Stream) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Read returns the next well-formed message. Malformed ones are answered
// (-32700 parse error, -32600 invalid request) and skipped; after a
// framing error the reader resynchronises on the next Content-Length
// header. A request comes back with an id of the stream's own (see RawID).
func (s *Stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		body, n, err := s.in.next()
		if err != nil {
			var bad *badFrame
			if errors.As(err, &bad) {
				s.refuse(nil, jsonrpc2.ParseError, bad.msg)
				continue
			}
			return nil, n, err
		}
		msg, err := s.decode(body)
		if err != nil {
			var bad *badMessage
			if errors.As(err, &bad) {
				if bad.framing {
					// Not JSON at all: most likely a wrong Content-Length.
					// Look for the next frame from the start of this body.
					s.in.unread(body)
					s.in.resync = true
				}
				s.refuse(bad.id, bad.code, bad.msg)
				continue
			}
			return nil, n, err
		}
		if m, ok := msg.(*jsonrpc2.Response); ok {
			// jsonrpc2 v0.10 hands a response to its caller through a
			// one-slot channel, on the read loop: a second copy of a reply
			// blocks the loop for good. Only the first reply to a request
			// still waited for goes on; repeated ones, and replies to ids
			// never sent or given up on, are dropped.
			if !s.takeCall(m.ID()) {
				if s.onBad != nil {
					s.onBad(fmt.Errorf("dropped a response to %s: no request of ours with that id is waiting", trunc(idString(m.ID()))))
				}
				continue
			}
		}
		return msg, n, nil
	}
}

// adopt gives a request an id of the stream's own and remembers the
// peer's, exactly as spelled.
func (s *Stream) adopt(peer json.RawMessage) jsonrpc2.ID {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	s.idSeq++
	ours := "lspstream#" + strconv.FormatInt(s.idSeq, 10)
	s.ids[ours] = append(json.RawMessage(nil), bytes.TrimSpace(peer)...)
	return jsonrpc2.NewStringID(ours)
}

// takeCall reports whether id is a request of ours still waiting for its
// response, and forgets it.
func (s *Stream) takeCall(id jsonrpc2.ID) bool {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	ok := s.calls[id]
	delete(s.calls, id)
	return ok
}

// Forget tells the stream that nobody waits any more for the response to
// the request with id (the caller gave up): a late response is dropped.
func (s *Stream) Forget(id jsonrpc2.ID) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	delete(s.calls, id)
}

func idString(id jsonrpc2.ID) string {
	b, _ := json.Marshal(&id)
	return string(b)
}

// RawID is the peer's spelling of a request's id ("" if id is not one of
// the stream's own).
func (s *Stream) RawID(id jsonrpc2.ID) json.RawMessage {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return s.ids[ourName(id)]
}

func ourName(id jsonrpc2.ID) string {
	b, _ := json.Marshal(&id)
	var name string
	if json.Unmarshal(b, &name) != nil {
		return ""
	}
	return name
}

// takeID forgets one of our ids and returns the peer's (nil if unknown).
func (s *Stream) takeID(id jsonrpc2.ID) json.RawMessage {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	name := ourName(id)
	raw := s.ids[name]
	delete(s.ids, name)
	return raw
}

type badMessage struct {
	id      json.RawMessage
	code    jsonrpc2.Code
	msg     string
	framing bool // not JSON: the frame's length was probably wrong
}

func (b *badMessage) Error() string { return b.msg }

// decode checks the JSON-RPC envelope and builds the message. A request
// gets an id of the stream's own (adopt; jsonrpc2 v0.10 holds ids as
// int32: large, fractional or duplicate ids would be lost or confused).
// A request or notification is built from its parts, its params taken
// from the body without a copy: jsonrpc2's decoder reads the body through
// a buffer that doubles as it fills, so a 128 MiB didOpen cost 255 MiB
// more there, and a request twice that again for its re-encoded id.
func (s *Stream) decode(body []byte) (jsonrpc2.Message, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if !json.Valid(trimmed) {
			return nil, &badMessage{code: jsonrpc2.ParseError, msg: "parse error: not JSON", framing: true}
		}
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "batch requests are not supported"}
	}
	if jsondepth.TooDeep(trimmed, MaxDepth) {
		// Not decoded, but its id is answered when it can be read: the
		// editor's request does not wait for ever.
		return nil, &badMessage{id: requestID(jsondepth.Member(trimmed, "id")), code: jsonrpc2.InvalidRequest,
			msg: fmt.Sprintf("message nested more than %d levels deep", MaxDepth)}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return nil, &badMessage{code: jsonrpc2.ParseError, msg: "parse error: not JSON", framing: true}
		}
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "a message must be a JSON object, not " + jsonKind(trimmed)}
	}
	var env struct {
		ID     json.RawMessage `json:"id"`
		Method json.RawMessage `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		var syn *json.SyntaxError
		return nil, &badMessage{code: jsonrpc2.ParseError, msg: "parse error: not JSON", framing: errors.As(err, &syn)}
	}
	id := env.ID
	if len(id) > 0 && id[0] != '"' && !isNumber(id) && string(id) != "null" {
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "id must be a string or a number, not " + jsonKind(id)}
	}
	var method *string
	if len(env.Method) > 0 {
		var m string
		if json.Unmarshal(env.Method, &m) != nil {
			return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "method must be a string, not " + jsonKind(env.Method)}
		}
		method = &m
	}
	if method == nil && len(env.Result) == 0 && len(env.Error) == 0 {
		return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "not a request, a notification or a response"}
	}
	if method != nil && *method == "" {
		return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "empty method"}
	}
	if method != nil && string(id) == "null" {
		// JSON-RPC allows it, LSP does not (an id is an integer or a
		// string); answered, so that the editor does not wait for ever.
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "a request's id must be a number or a string, not null (a notification has no id)"}
	}
	if method == nil {
		// A response: a reply to one of the bridge's own requests, small.
		msg, err := jsonrpc2.DecodeMessage(trimmed)
		if err != nil {
			return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "not a valid response"}
		}
		return msg, nil
	}
	var p struct {
		Params json.RawMessage `json:"params"`
	}
	if _, err := fastjson.Parse(trimmed, &p, fastjson.ZeroCopy); err != nil {
		return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "params cannot be read"}
	}
	var params any // absent: null
	if len(p.Params) > 0 {
		params = rawJSON(p.Params)
	}
	var (
		msg jsonrpc2.Message
		err error
	)
	if len(id) > 0 {
		ours := s.adopt(id)
		if msg, err = jsonrpc2.NewCall(ours, *method, params); err != nil {
			s.takeID(ours)
		}
	} else {
		msg, err = jsonrpc2.NewNotification(*method, params)
	}
	if err != nil {
		return nil, &badMessage{id: requestID(id), code: jsonrpc2.InvalidRequest, msg: "the message cannot be read"}
	}
	return msg, nil
}

// requestID is id when it is one a reply can carry (a number or a
// string), else nil (the reply's id is then null).
func requestID(id json.RawMessage) json.RawMessage {
	if len(id) > 0 && (id[0] == '"' || isNumber(id)) {
		return id
	}
	return nil
}

// jsonKind names the JSON type of a valid JSON value.
func jsonKind(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// rawJSON is JSON text that encodes as itself (jsonrpc2's constructors
// marshal the params they are given: this costs one copy, a
// json.RawMessage two).
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// isNumber reports whether b, a valid JSON value, is a number. By its
// first byte, not by parsing it: a number past float64's range (1e400,
// 400 digits) is still a number, and the id is kept as spelled.
func isNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
}

// refuse answers a message that could not be served. It runs on the read
// loop, so it never waits: with the peer not reading, the answer is dropped.
func (s *Stream) refuse(id json.RawMessage, code jsonrpc2.Code, msg string) {
	if s.onBad != nil {
		s.onBad(errors.New(msg))
	}
	_ = s.respond(id, nil, jsonrpc2.Errorf(code, "%s", msg), false)
}

// Respond sends the response to a request read from this stream, with the
// peer's id as the peer spelled it. With wait false it never blocks
// (ErrBusy when the peer is not reading).
func (s *Stream) Respond(id jsonrpc2.ID, result any, err error, wait bool) error {
	raw := s.takeID(id)
	if raw == nil {
		b, _ := json.Marshal(&id)
		raw = b
	}
	return s.respond(raw, result, err, wait)
}

func (s *Stream) respond(id json.RawMessage, result any, rerr error, wait bool) error {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result,omitempty"`
		Error   *jsonrpc2.Error `json:"error,omitempty"`
	}{JSONRPC: "2.0", ID: id}
	if rerr != nil {
		var e *jsonrpc2.Error
		if !errors.As(rerr, &e) {
			e = jsonrpc2.Errorf(jsonrpc2.InternalError, "%s", rerr.Error())
		}
		resp.Error = e
	} else {
		b, err := fastjson.Marshal(result)
		if err != nil {
			return fmt.Errorf("marshaling result: %w", err)
		}
		resp.Result = b
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	return s.writeFrame(b, wait)
}

// Write sends one message. It ignores ctx cancellation on purpose: a reply
// to a cancelled request must still go out (LSP wants one), and jsonrpc2
// passes the request's ctx here. A response to a request read from this
// stream goes out with the peer's id.
func (s *Stream) Write(_ context.Context, msg jsonrpc2.Message) (int64, error) {
	if r, ok := msg.(*jsonrpc2.Response); ok {
		if raw := s.takeID(r.ID()); raw != nil {
			var res any
			if r.Err() == nil {
				res = r.Result()
			}
			return 0, s.respond(raw, res, r.Err(), true)
		}
	}
	if c, ok := msg.(*jsonrpc2.Call); ok {
		// Waited for from now on (its response may come before Write returns).
		s.callsMu.Lock()
		s.calls[c.ID()] = true
		s.callsMu.Unlock()
	}
	var b []byte
	var err error
	if m, ok := msg.(json.Marshaler); ok {
		// The message encodes itself (jsonrpc2 uses a fast encoder);
		// json.Marshal would validate and compact its output all over again.
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(msg)
	}
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return int64(len(b)), s.writeFrame(b, true)
}

// writeFrame queues one frame. With wait, it waits for room (the peer's
// pace) until Close; without, it gives up at once with ErrBusy.
func (s *Stream) writeFrame(b []byte, wait bool) error {
	if err := s.failed(); err != nil {
		return err
	}
	frame := make([]byte, 0, len(b)+32)
	frame = append(frame, "Content-Length: "...)
	frame = strconv.AppendInt(frame, int64(len(b)), 10)
	frame = append(frame, "\r\n\r\n"...)
	frame = append(frame, b...)
	select {
	case <-s.closing:
		return ErrClosed
	default:
	}
	s.queued.Add(1)
	if !wait {
		select {
		case s.queue <- frame:
			return nil
		default:
			s.queued.Add(-1)
			return ErrBusy
		}
	}
	select {
	case s.queue <- frame:
		return nil
	case <-s.closing:
		s.queued.Add(-1)
		return ErrClosed
	}
}

// Notify sends a notification, encoding params once (jsonrpc2's Notify
// encodes them, then encodes and re-scans them inside the message: twice
// the work on the path every streamed event takes). It waits for room in
// the queue (until Close).
func (s *Stream) Notify(method string, params any) error { return s.notify(method, params, true) }

// TryNotify is Notify that never waits: for the read loop, which must not
// block on a peer that does not read (ErrBusy then).
func (s *Stream) TryNotify(method string, params any) error { return s.notify(method, params, false) }

func (s *Stream) notify(method string, params any, wait bool) error {
	// The message is encoded into a pooled buffer and copied once, into
	// its frame: one allocation per notification on the path of every
	// streamed event (the bytes are what json.Marshal would write).
	bp := bodyPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"jsonrpc":"2.0","method":`...)
	b = fastjson.AppendEscape(b, method, fastjson.EscapeHTML)
	b = append(b, `,"params":`...)
	b, err := fastjson.Append(b, params, fastjson.EscapeHTML|fastjson.SortMapKeys)
	if err == nil {
		b = append(b, '}')
		err = s.writeFrame(b, wait)
	} else {
		err = fmt.Errorf("marshaling %s params: %w", method, err)
	}
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		bodyPool.Put(bp)
	}
	return err
}

// bodyPool holds buffers notifications are encoded into; one larger than
// maxPooledBody (a long tool result) is left to the garbage collector.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBody = 64 << 10

// Close closes the input, stops every writer waiting for room, lets the
// writer flush what is queued for at most a second (a peer that does not
// read cannot hold the bridge) and closes the output.
func (s *Stream) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.rc != nil {
			err = s.rc.Close()
		}
		close(s.closing)
		select {
		case <-s.writerDone:
		case <-time.After(time.Second):
		}
		if s.wc != nil {
			if e := s.wc.Close(); err == nil {
				err = e
			}
		}
	})
	return err
}

// Flush waits until every frame queued so far has been written (or the
// output failed), at most timeout. It takes no lock a writer holds.
func (s *Stream) Flush(timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for s.written.Load() < s.queued.Load() && s.failed() == nil {
		select {
		case <-s.wrote:
		case <-s.writerDone:
			return
		case <-deadline.C:
			return
		}
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
