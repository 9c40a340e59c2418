// Package lspstream frames JSON-RPC messages the way the Language Server
// Protocol does (Content-Length headers) and, unlike jsonrpc2.NewStream,
// survives bad input: it accepts any header case, caps message sizes, and
// answers a malformed message with a JSON-RPC error instead of closing the
// connection.
package lspstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
)

// DefaultMaxMessage caps one incoming message. A didOpen of a large file is a
// few MB; anything past this is refused, not allocated.
const DefaultMaxMessage = 128 << 20

// Stream is a jsonrpc2.Stream over a reader and a writer.
//
// Writes are queued, in order, to one writer goroutine that batches the
// frames queued meanwhile into one write(2): a task streaming thousands of
// events costs a few syscalls, not one per event, and the goroutine that
// produced them (claude's read loop) does not wait on the editor's pipe.
type Stream struct {
	in    *bufio.Reader
	rc    io.Closer
	out   io.Writer
	wc    io.Closer
	max   int64
	onBad func(error)

	writeM  sync.Mutex // guards queue sends against close, and err
	queue   chan []byte
	closed  bool
	err     error         // the first write error; every later write returns it
	flushed chan struct{} // closed when the writer goroutine has ended
	pending atomic.Int64  // frames queued and not yet flushed
	closeO  sync.Once
}

// Options tune a Stream.
type Options struct {
	MaxMessage int64       // 0 = DefaultMaxMessage
	OnBad      func(error) // told of every message refused (for logging)
}

// New makes a Stream reading r and writing w. Close closes both when they
// are io.Closers.
func New(r io.Reader, w io.Writer, o Options) *Stream {
	s := &Stream{in: bufio.NewReaderSize(r, 64<<10), out: w, max: o.MaxMessage, onBad: o.OnBad}
	if s.max <= 0 {
		s.max = DefaultMaxMessage
	}
	if c, ok := r.(io.Closer); ok {
		s.rc = c
	}
	if c, ok := w.(io.Closer); ok {
		s.wc = c
	}
	s.queue = make(chan []byte, 1024)
	s.flushed = make(chan struct{})
	go s.writeLoop()
	return s
}

// writeLoop owns the output: it writes the queued frames, flushing whenever
// the queue runs dry.
func (s *Stream) writeLoop() {
	defer close(s.flushed)
	bw := bufio.NewWriterSize(s.out, 64<<10)
	for frame := range s.queue {
		_, err := bw.Write(frame)
		n := int64(1)
		for err == nil && len(s.queue) > 0 {
			_, err = bw.Write(<-s.queue)
			n++
		}
		if err == nil {
			err = bw.Flush()
		}
		s.pending.Add(-n)
		if err != nil {
			s.writeM.Lock()
			if s.err == nil {
				s.err = err
			}
			s.writeM.Unlock()
			for range s.queue { // drain so that senders never block
			}
			return
		}
	}
}

// Read returns the next well-formed message. Malformed ones are answered
// (-32700 parse error, -32600 invalid request) and skipped.
func (s *Stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		body, n, err := s.readFrame()
		if err != nil {
			var bad *badFrame
			if errors.As(err, &bad) {
				s.refuse(nil, jsonrpc2.ParseError, bad.msg)
				continue
			}
			return nil, n, err
		}
		msg, err := decode(body)
		if err != nil {
			var bad *badMessage
			if errors.As(err, &bad) {
				s.refuse(bad.id, bad.code, bad.msg)
				continue
			}
			return nil, n, err
		}
		return msg, n, nil
	}
}

type badFrame struct{ msg string }

func (b *badFrame) Error() string { return b.msg }

type badMessage struct {
	id   json.RawMessage
	code jsonrpc2.Code
	msg  string
}

func (b *badMessage) Error() string { return b.msg }

// readFrame reads one header block and its body. Framing errors that leave
// the stream in sync come back as *badFrame.
func (s *Stream) readFrame() ([]byte, int64, error) {
	var total int64
	length := int64(-1)
	var problem string
	sawHeader := false
	for {
		line, err := s.in.ReadString('\n')
		total += int64(len(line))
		if err != nil {
			if errors.Is(err, io.EOF) && total == 0 {
				return nil, 0, io.EOF
			}
			return nil, total, fmt.Errorf("reading header: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if !sawHeader {
				continue // stray blank lines between frames
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			problem = fmt.Sprintf("invalid header line %q", trunc(line))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || v < 0 {
				problem = fmt.Sprintf("invalid Content-Length %q", trunc(value))
				continue
			}
			length = v
		}
	}
	if length < 0 {
		if problem == "" {
			problem = "missing Content-Length header"
		}
		return nil, total, &badFrame{msg: problem}
	}
	if length > s.max {
		// Skip the body without allocating it, then say why.
		if _, err := io.CopyN(io.Discard, s.in, length); err != nil {
			return nil, total, fmt.Errorf("skipping an over-long message: %w", err)
		}
		return nil, total + length, &badFrame{msg: fmt.Sprintf("message of %d bytes exceeds the limit of %d", length, s.max)}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.in, body); err != nil {
		return nil, total, fmt.Errorf("reading message body: %w", err)
	}
	return body, total + length, nil
}

// decode checks the JSON-RPC envelope before handing it to jsonrpc2.
func decode(body []byte) (jsonrpc2.Message, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "batch requests are not supported"}
	}
	var env struct {
		ID     json.RawMessage `json:"id"`
		Method *string         `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, &badMessage{code: jsonrpc2.ParseError, msg: "parse error: " + err.Error()}
	}
	id := env.ID
	if len(id) > 0 && id[0] != '"' && !isNumber(id) && string(id) != "null" {
		return nil, &badMessage{code: jsonrpc2.InvalidRequest, msg: "id must be a string or a number"}
	}
	if env.Method == nil && len(env.Result) == 0 && len(env.Error) == 0 {
		return nil, &badMessage{id: id, code: jsonrpc2.InvalidRequest, msg: "not a request, a notification or a response"}
	}
	if env.Method != nil && *env.Method == "" {
		return nil, &badMessage{id: id, code: jsonrpc2.InvalidRequest, msg: "empty method"}
	}
	msg, err := jsonrpc2.DecodeMessage(trimmed)
	if err != nil {
		return nil, &badMessage{id: id, code: jsonrpc2.InvalidRequest, msg: err.Error()}
	}
	return msg, nil
}

func isNumber(b []byte) bool {
	_, err := strconv.ParseFloat(string(b), 64)
	return err == nil
}

// refuse writes an error response for a message that could not be served.
func (s *Stream) refuse(id json.RawMessage, code jsonrpc2.Code, msg string) {
	if s.onBad != nil {
		s.onBad(errors.New(msg))
	}
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error":   map[string]any{"code": code, "message": msg},
	})
	_ = s.writeFrame(b)
}

// Write sends one message. It ignores ctx cancellation on purpose: a reply
// to a cancelled request must still go out (LSP wants one), and jsonrpc2
// passes the request's ctx here.
func (s *Stream) Write(_ context.Context, msg jsonrpc2.Message) (int64, error) {
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
	return int64(len(b)), s.writeFrame(b)
}

func (s *Stream) writeFrame(b []byte) error {
	frame := make([]byte, 0, len(b)+32)
	frame = append(frame, "Content-Length: "...)
	frame = strconv.AppendInt(frame, int64(len(b)), 10)
	frame = append(frame, "\r\n\r\n"...)
	frame = append(frame, b...)
	s.writeM.Lock()
	defer s.writeM.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("the stream is closed")
	}
	s.pending.Add(1)
	s.queue <- frame
	return nil
}

// Notify sends a notification, encoding params once (jsonrpc2's Notify
// encodes them, then encodes and re-scans them inside the message: twice
// the work on the path every streamed event takes).
func (s *Stream) Notify(method string, params any) error {
	p, err := fastjson.Marshal(params)
	if err != nil {
		return fmt.Errorf("marshaling %s params: %w", method, err)
	}
	m, _ := json.Marshal(method)
	b := make([]byte, 0, len(p)+len(m)+40)
	b = append(b, `{"jsonrpc":"2.0","method":`...)
	b = append(b, m...)
	b = append(b, `,"params":`...)
	b = append(b, p...)
	b = append(b, '}')
	return s.writeFrame(b)
}

// Close closes the input, then lets the writer flush what is queued
// (bounded: a stuck editor cannot hold the bridge) and closes the output.
func (s *Stream) Close() error {
	var err error
	if s.rc != nil {
		err = s.rc.Close()
	}
	s.closeO.Do(func() {
		s.writeM.Lock()
		s.closed = true
		close(s.queue)
		s.writeM.Unlock()
		select {
		case <-s.flushed:
		case <-time.After(2 * time.Second):
		}
		if s.wc != nil {
			if e := s.wc.Close(); err == nil {
				err = e
			}
		}
	})
	return err
}

// Flush waits until every frame written so far has reached the output
// (or the output failed), at most timeout.
func (s *Stream) Flush(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s.writeM.Lock()
		done := s.pending.Load() <= 0 || s.err != nil
		s.writeM.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
