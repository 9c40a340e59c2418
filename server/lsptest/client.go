// Package lsptest is an editor stand-in for tests: it speaks LSP-framed
// JSON-RPC to a bridge (in process or a real binary over pipes), records
// every notification, answers the bridge's requests with handlers a test
// sets, and lets a test choose request ids, so $/cancelRequest can be sent
// the way editors send it.
package lsptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Message is one JSON-RPC message as received.
type Message struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
	At  time.Time `json:"-"`
	Seq int       `json:"-"` // arrival order over all messages, replies included
}

// Handler answers a request from the bridge: a result, or an error message.
type Handler func(params json.RawMessage) (any, error)

// Client is the editor side of a connection.
type Client struct {
	w  io.Writer
	wm sync.Mutex

	mu       sync.Mutex
	nextID   int
	pending  map[string]chan Message
	handlers map[string]Handler
	repeat   map[string]int // answers to these methods go out this many times
	log      []Message      // every notification and request from the bridge, in order
	cond     *sync.Cond
	closed   bool
	arrived  int
}

// New starts reading r (the bridge's stdout) and writing w (its stdin).
func New(r io.Reader, w io.Writer) *Client {
	c := &Client{w: w, pending: map[string]chan Message{}, handlers: map[string]Handler{}, repeat: map[string]int{}}
	c.cond = sync.NewCond(&c.mu)
	c.Handle("window/workDoneProgress/create", func(json.RawMessage) (any, error) { return nil, nil })
	go c.read(r)
	return c
}

// Handle sets the answer to a request method from the bridge.
func (c *Client) Handle(method string, h Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers[method] = h
}

// Repeat makes the client answer each request of method n times, in one
// write: an editor that repeats its replies.
func (c *Client) Repeat(method string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.repeat[method] = n
}

func (c *Client) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	defer func() {
		c.mu.Lock()
		c.closed = true
		for _, ch := range c.pending {
			close(ch)
		}
		c.pending = map[string]chan Message{}
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	for {
		n, err := readHeader(br)
		if err != nil {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		// segmentio's decoder: an editor parses JSON natively and fast;
		// this stand-in should not be the slow part of a measurement.
		var m Message
		if err := fastjson.Unmarshal(body, &m); err != nil {
			return
		}
		m.At = time.Now()
		c.mu.Lock()
		c.arrived++
		m.Seq = c.arrived
		c.mu.Unlock()
		switch {
		case m.Method != "" && len(m.ID) > 0:
			c.mu.Lock()
			c.log = append(c.log, m)
			h := c.handlers[m.Method]
			c.cond.Broadcast()
			c.mu.Unlock()
			go c.answer(m, h)
		case m.Method != "":
			c.mu.Lock()
			c.log = append(c.log, m)
			c.cond.Broadcast()
			c.mu.Unlock()
		default:
			c.mu.Lock()
			key := string(m.ID)
			ch := c.pending[key]
			delete(c.pending, key)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			} else {
				c.mu.Lock()
				c.log = append(c.log, m) // an unsolicited response (e.g. to a bad frame)
				c.cond.Broadcast()
				c.mu.Unlock()
			}
		}
	}
}

// readHeader reads one LSP header block and returns its Content-Length.
func readHeader(br *bufio.Reader) (int, error) {
	n := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if n < 0 {
				return 0, fmt.Errorf("lsptest: a frame without Content-Length")
			}
			return n, nil
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if n, err = strconv.Atoi(strings.TrimSpace(value)); err != nil {
				return 0, err
			}
		}
	}
}

func (c *Client) answer(m Message, h Handler) {
	resp := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	if h == nil {
		resp["error"] = map[string]any{"code": -32601, "message": "test client: no handler for " + m.Method}
	} else if res, err := h(m.Params); err != nil {
		resp["error"] = map[string]any{"code": -32603, "message": err.Error()}
	} else {
		resp["result"] = res
	}
	c.mu.Lock()
	n := max(c.repeat[m.Method], 1)
	c.mu.Unlock()
	b, err := json.Marshal(resp)
	if err != nil {
		return
	}
	frame := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(b), b)
	_ = c.WriteRaw(strings.Repeat(frame, n))
}

func (c *Client) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(b), b))
}

// WriteRaw writes bytes as they are (for malformed-frame tests).
func (c *Client) WriteRaw(s string) error {
	c.wm.Lock()
	defer c.wm.Unlock()
	_, err := io.WriteString(c.w, s)
	return err
}

// Call is a request in flight.
type Call struct {
	ID    int
	done  chan Message
	reply Message
}

// Start sends a request with a fresh numeric id and returns at once.
func (c *Client) Start(method string, params any) *Call {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan Message, 1)
	c.pending[strconv.Itoa(id)] = ch
	c.mu.Unlock()
	_ = c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return &Call{ID: id, done: ch}
}

// Wait waits for the reply.
// Waiting again returns the same reply.
func (call *Call) Wait(timeout time.Duration) (Message, error) {
	if call.reply.Seq != 0 {
		return call.reply, nil
	}
	select {
	case m, ok := <-call.done:
		if !ok {
			return Message{}, fmt.Errorf("connection closed before the reply to request %d", call.ID)
		}
		call.reply = m
		return m, nil
	case <-time.After(timeout):
		return Message{}, fmt.Errorf("no reply to request %d within %s", call.ID, timeout)
	}
}

// Request sends a request and waits for its reply; an error reply is an
// error, and so is a result that does not decode strictly (lspext.Decode)
// into result (nil: not decoded).
func (c *Client) Request(method string, params any, result any, timeout time.Duration) error {
	m, err := c.Start(method, params).Wait(timeout)
	if err != nil {
		return err
	}
	if m.Error != nil {
		return fmt.Errorf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
	}
	if result != nil {
		if err := lspext.Decode(m.Result, result); err != nil {
			return fmt.Errorf("%s: the reply does not decode into %T: %v", method, result, err)
		}
	}
	return nil
}

// Notify sends a notification.
func (c *Client) Notify(method string, params any) error {
	return c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// Cancel sends $/cancelRequest for a call.
func (c *Client) Cancel(call *Call) error {
	return c.Notify("$/cancelRequest", map[string]any{"id": call.ID})
}

// Messages returns the notifications and requests received so far with the
// given method ("" for all).
func (c *Client) Messages(method string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, m := range c.log {
		if method == "" || m.Method == method {
			out = append(out, m)
		}
	}
	return out
}

// WaitFor waits until pred holds for some received message of method.
func (c *Client) WaitFor(method string, timeout time.Duration, pred func(Message) bool) (Message, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for _, m := range c.log {
			if m.Method == method && (pred == nil || pred(m)) {
				return m, nil
			}
		}
		if c.closed || time.Now().After(deadline) {
			return Message{}, fmt.Errorf("no %s message matched within %s", method, timeout)
		}
		c.cond.Wait()
	}
}

// Closed reports whether the bridge closed its output.
func (c *Client) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Events returns the claude/event notifications of a task, in arrival
// order, each decoded strictly into its lspext type (lspext.DecodeEvent):
// one that does not decode (a renamed, missing or extra field, an unknown
// kind) fails t, naming the field, and is left out.
func (c *Client) Events(t testing.TB, taskID string) []lspext.Event {
	t.Helper()
	var out []lspext.Event
	for _, m := range c.Messages(lspext.MethodEvent) {
		ev, err := lspext.DecodeEvent(m.Params)
		if err != nil {
			t.Errorf("lsptest: %v in %s", err, m.Params)
			continue
		}
		if ev.Head().TaskID == taskID {
			out = append(out, ev)
		}
	}
	return out
}

// WaitEvent waits for the first claude/event of type E (*lspext.StartedEvent,
// ...) of task taskID ("": any task), and returns it with its message (its
// Seq orders it among all messages). Events are decoded strictly; one that
// does not decode fails t.
func WaitEvent[E lspext.Event](t testing.TB, c *Client, taskID string, timeout time.Duration) (E, Message, error) {
	t.Helper()
	var found E
	passed := map[int]bool{} // messages looked at already (WaitFor looks at all of them each time)
	m, err := c.WaitFor(lspext.MethodEvent, timeout, func(m Message) bool {
		if passed[m.Seq] {
			return false
		}
		passed[m.Seq] = true
		ev, err := lspext.DecodeEvent(m.Params)
		if err != nil {
			t.Errorf("lsptest: %v in %s", err, m.Params)
			return false
		}
		e, ok := ev.(E)
		if ok && (taskID == "" || ev.Head().TaskID == taskID) {
			found = e
			return true
		}
		return false
	})
	if err != nil {
		return found, m, fmt.Errorf("no %T of task %q: %w", found, taskID, err)
	}
	return found, m, nil
}

// Of returns the events of type E (*lspext.TextEvent, ...) among evs, in
// order.
func Of[E lspext.Event](evs []lspext.Event) []E {
	var out []E
	for _, ev := range evs {
		if e, ok := ev.(E); ok {
			out = append(out, e)
		}
	}
	return out
}

// Last returns the last event of type E among evs, or nil.
func Last[E lspext.Event](evs []lspext.Event) E {
	var last E
	for _, ev := range evs {
		if e, ok := ev.(E); ok {
			last = e
		}
	}
	return last
}

// Kinds lists the kinds of events, comma-separated (for messages).
func Kinds(evs []lspext.Event) string {
	k := make([]string, len(evs))
	for i, ev := range evs {
		k[i] = string(ev.EventKind())
	}
	return strings.Join(k, ",")
}

// Progress is one $/progress value: LSP's WorkDoneProgressBegin, Report or
// End (Kind says which; Title only in begin, Cancellable not in end).
type Progress struct {
	Kind        protocol.WorkDoneProgressKind `json:"kind"`
	Title       string                        `json:"title,omitempty"`
	Message     string                        `json:"message,omitempty"`
	Cancellable bool                          `json:"cancellable,omitempty"`
	Percentage  *uint32                       `json:"percentage,omitempty"`
}

// Progress returns the $/progress values sent for a token (a string token
// as its value, a number as spelled), in order, decoded strictly: a value
// with a field LSP does not define fails t.
func (c *Client) Progress(t testing.TB, token string) []Progress {
	t.Helper()
	var out []Progress
	for _, m := range c.Messages("$/progress") {
		var p struct {
			Token json.RawMessage `json:"token"`
			Value json.RawMessage `json:"value"`
		}
		if err := lspext.Decode(m.Params, &p); err != nil {
			t.Errorf("lsptest: $/progress: %v in %s", err, m.Params)
			continue
		}
		if tokenKey(p.Token) != token {
			continue
		}
		var v Progress
		if err := lspext.Decode(p.Value, &v); err != nil {
			t.Errorf("lsptest: $/progress value: %v in %s", err, p.Value)
			continue
		}
		out = append(out, v)
	}
	return out
}

// tokenKey is a progress token as a string: a string token's value, a
// number as spelled.
func tokenKey(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Decode decodes a message's params or result strictly into a T
// (lspext.Decode). One that does not decode fails t, naming the field that
// is wrong, and gives T's zero value (t.Errorf: it may be called from a
// request handler's goroutine).
func Decode[T any](t testing.TB, what string, data json.RawMessage) T {
	t.Helper()
	var v T
	if err := lspext.Decode(data, &v); err != nil {
		t.Errorf("lsptest: %s: %v in %s", what, err, data)
	}
	return v
}
