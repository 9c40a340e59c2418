package lspstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
)

// methods reads every message of in and returns the methods served, and
// what was written back.
func methods(t *testing.T, in string, o Options) ([]string, string) {
	t.Helper()
	var out bytes.Buffer
	s := New(strings.NewReader(in), &out, o)
	var got []string
	for {
		msg, _, err := s.Read(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch m := msg.(type) {
		case *jsonrpc2.Call:
			got = append(got, m.Method())
		case *jsonrpc2.Notification:
			got = append(got, m.Method())
		}
	}
	s.Flush(2 * time.Second)
	return got, out.String()
}

// One bad header, of every kind, costs one refused frame: the reader finds
// the next Content-Length header and the frames after it are served.
func TestResyncAfterBadHeaders(t *testing.T) {
	ok := frame(`{"jsonrpc":"2.0","method":"ok"}`)
	body := `{"jsonrpc":"2.0","method":"lost"}`
	cases := map[string]string{
		"abc":          "Content-Length: abc\r\n\r\n" + body,
		"negative":     "Content-Length: -5\r\n\r\n" + body,
		"empty":        "Content-Length:\r\n\r\n" + body,
		"too long":     "Content-Length: 500\r\n\r\n" + body,
		"far too long": "Content-Length: 99999999999\r\n\r\n" + body,
		"too short":    "Content-Length: 10\r\n\r\n" + body,
		"zero":         "Content-Length: 0\r\n\r\n" + body,
		"no header":    "X-Nonsense: 1\r\n\r\n" + body,
		"garbage":      "\x00\xff garbage without a line break " + body,
		"long line":    "X-Pad: " + strings.Repeat("a", 20000) + "\r\n\r\n" + body,
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			got, replies := methods(t, ok+bad+ok+ok, Options{MaxMessage: 4096})
			if strings.Join(got, ",") != "ok,ok,ok" {
				t.Errorf("served %v, want ok three times", got)
			}
			if !strings.Contains(replies, `"code":-32700`) {
				t.Errorf("no parse error answered: %s", replies)
			}
		})
	}
}

// Garbage without a line break, of any length, followed directly by a
// frame: the frame's header ends the over-long "line", and is found
// there, so the frame is served (it used to be lost for garbage between
// the header cap and the reader's chunk, 8 to 32 KiB).
func TestFrameRightAfterLongGarbageIsServed(t *testing.T) {
	after := frame(`{"jsonrpc":"2.0","method":"after"}`)
	for _, n := range []int{100, 8000, 8190, 8300, 9000, 20000, 32760, 40000, 70000, 300000} {
		for _, junk := range []string{"g", "Content-Length: 1"} {
			garbage := strings.Repeat(junk, n/len(junk)+1)[:n]
			got, _ := methods(t, garbage+after+after, Options{})
			if strings.Join(got, ",") != "after,after" {
				t.Errorf("%d bytes of %q…: served %v, want the two frames after it", n, junk, got)
			}
		}
	}
}

// A header line without end is refused without being held: memory stays
// near the cap, and the frame after it is served.
func TestEndlessHeaderLineIsNotHeld(t *testing.T) {
	endless := io.MultiReader(strings.NewReader("X-"), io.LimitReader(zeros{}, 64<<20), strings.NewReader("\r\n\r\n"+frame(`{"jsonrpc":"2.0","method":"after"}`)))
	s := New(endless, io.Discard, Options{})
	msg, _, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := msg.(*jsonrpc2.Notification); !ok || n.Method() != "after" {
		t.Fatalf("msg = %#v", msg)
	}
	if c := cap(s.in.buf); c > 1<<20 {
		t.Errorf("the reader holds %d bytes after a 64 MiB header line", c)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'a'
	}
	return len(b), nil
}

// Ids keep their exact spelling: large, fractional and duplicate ids each
// get their own reply with the id as sent.
func TestIDsKeepTheirSpelling(t *testing.T) {
	ids := []string{`9007199254740993`, `9007199254740992`, `5.0`, `5`, `"x"`, `"x"`, `3000000000`,
		`1e400`, `-1E+400`, `0.1e-999`, `-0`, "1" + strings.Repeat("0", 400)} // past float64's range: still numbers
	var in strings.Builder
	for _, id := range ids {
		in.WriteString(frame(`{"jsonrpc":"2.0","id":` + id + `,"method":"m"}`))
	}
	var out bytes.Buffer
	s := New(strings.NewReader(in.String()), &out, Options{})
	var seen []string
	for {
		msg, _, err := s.Read(context.Background())
		if err != nil {
			break
		}
		call := msg.(*jsonrpc2.Call)
		seen = append(seen, string(s.RawID(call.ID())))
		if err := s.Respond(call.ID(), "r", nil, true); err != nil {
			t.Fatal(err)
		}
	}
	s.Flush(2 * time.Second)
	if strings.Join(seen, " ") != strings.Join(ids, " ") {
		t.Errorf("raw ids = %v, want %v", seen, ids)
	}
	var replies []string
	for _, part := range strings.Split(out.String(), "Content-Length")[1:] {
		var r struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal([]byte(part[strings.Index(part, "{"):]), &r)
		replies = append(replies, string(r.ID))
	}
	if strings.Join(replies, " ") != strings.Join(ids, " ") {
		t.Errorf("reply ids = %v, want %v", replies, ids)
	}
}

// A peer that stops reading: writers wait, but Flush and Close return in
// their bounds and wake every waiting writer.
func TestStuckPeerCannotWedgeCloseOrFlush(t *testing.T) {
	pr, pw := io.Pipe() // nobody reads pr
	defer pr.Close()
	s := New(strings.NewReader(""), pw, Options{})
	blocked := make(chan error, 1)
	go func() {
		for {
			if err := s.Notify("x", strings.Repeat("y", 1000)); err != nil {
				blocked <- err
				return
			}
		}
	}()
	for s.queued.Load() < queueLen { // the queue fills up behind the stuck pipe
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Flush(200 * time.Millisecond)
	if err := s.TryNotify("y", 1); !errors.Is(err, ErrBusy) {
		t.Errorf("TryNotify on a full queue = %v", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a stuck peer")
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("the waiting writer got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a writer waiting for room was not woken by Close")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Flush and Close took %s", d)
	}
}

// A deeply nested message is refused, not decoded.
func TestDeepMessageRefused(t *testing.T) {
	deep := `{"jsonrpc":"2.0","id":1,"method":"m","params":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	got, replies := methods(t, frame(deep)+frame(`{"jsonrpc":"2.0","method":"ok"}`), Options{})
	if strings.Join(got, ",") != "ok" || !strings.Contains(replies, "nested") {
		t.Errorf("served %v; replies %s", got, replies)
	}
}

// Only the first reply to a request of ours still waited for reaches
// jsonrpc2 (which hands it over through a one-slot channel on its read
// loop: a second copy would block the loop for good). Repeated replies,
// replies to ids never sent and to requests given up on (Forget) are
// dropped.
func TestOnlyAwaitedRepliesGoOn(t *testing.T) {
	pr, pw := io.Pipe()
	s := New(pr, io.Discard, Options{})
	defer s.Close()
	for _, n := range []int32{7, 9} {
		call, _ := jsonrpc2.NewCall(jsonrpc2.NewNumberID(n), "window/workDoneProgress/create", nil)
		if _, err := s.Write(context.Background(), call); err != nil {
			t.Fatal(err)
		}
	}
	s.Forget(jsonrpc2.NewNumberID(9))
	reply := func(id string) string { return frame(`{"jsonrpc":"2.0","id":` + id + `,"result":null}`) }
	go func() {
		_, _ = io.WriteString(pw, reply("7")+reply("7")+reply("7")+reply("8")+reply(`"x"`)+reply("9")+
			frame(`{"jsonrpc":"2.0","method":"after"}`)+reply("7"))
		pw.Close()
	}()
	var got []string
	for {
		msg, _, err := s.Read(context.Background())
		if err != nil {
			break
		}
		switch m := msg.(type) {
		case *jsonrpc2.Response:
			got = append(got, "reply "+idString(m.ID()))
		case *jsonrpc2.Notification:
			got = append(got, m.Method())
		}
	}
	if strings.Join(got, ", ") != "reply 7, after" {
		t.Errorf("read %v, want one reply to 7, then after", got)
	}
}

// A large message costs about its size a few times over while it is read
// and decoded, not the eight to ten times that growing the read buffer
// and jsonrpc2's own decoder took (a 128 MiB didOpen peaked at 700 MB).
// Allocation counts do not depend on the machine's speed.
func TestLargeMessageIsReadWithFewCopies(t *testing.T) {
	const size = 32 << 20
	for _, head := range []string{`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"s":"`, `{"jsonrpc":"2.0","id":1e400,"method":"m","params":{"s":"`} {
		body := head + strings.Repeat("a", size-len(head)-3) + `"}}`
		in := strings.NewReader(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
		s := New(in, io.Discard, Options{})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		msg, _, err := s.Read(context.Background())
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := msg.(jsonrpc2.Request); !ok || len(r.Params()) != size-len(head)+len(`{"s":"`)-1 {
			t.Fatalf("read %T", msg)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 7*size/2 {
			t.Errorf("reading a %d MiB message allocated %d MiB", size>>20, alloc>>20)
		}
	}
}
