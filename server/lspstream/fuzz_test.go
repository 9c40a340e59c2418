package lspstream

import (
	"context"
	"io"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
)

// FuzzReadFrames: whatever comes before it, a well-formed frame after a
// blank line is read (the reader resynchronises), and nothing panics or
// grows past the caps.
func FuzzReadFrames(f *testing.F) {
	for _, seed := range []string{
		"Content-Length: abc\r\n\r\n{}",
		"Content-Length: -5\r\n\r\n",
		"Content-Length:\r\n\r\n{\"a\":1}",
		"Content-Length: 4000\r\n\r\n{\"jsonrpc\":\"2.0\"",
		"Content-Length: 3\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
		"content-length: 2\r\ncontent-type: x\r\n\r\n[]",
		"Content-Length: 27\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":true}",
		"X-Nonsense: 1\r\n\r\n",
		"Content-Length: 10",
		"\x00\x01\x02",
		strings.Repeat("Content-Length: 1\r\n", 40),
	} {
		f.Add([]byte(seed))
	}
	sentinel := frame(`{"jsonrpc":"2.0","method":"fuzz/sentinel"}`)
	f.Fuzz(func(t *testing.T, garbage []byte) {
		s := New(strings.NewReader(string(garbage)+"\r\n\r\n"+sentinel), io.Discard, Options{MaxMessage: 1024, MaxHeaderLine: 256})
		last := ""
		for i := 0; i < 10000; i++ {
			msg, _, err := s.Read(context.Background())
			if err != nil {
				break
			}
			switch m := msg.(type) {
			case *jsonrpc2.Notification:
				last = m.Method()
			case *jsonrpc2.Call:
				last = m.Method()
			}
			if cap(s.in.buf) > 1<<20 {
				t.Fatalf("reader buffer grew to %d", cap(s.in.buf))
			}
		}
		if last != "fuzz/sentinel" {
			t.Fatalf("the frame after the garbage was not read (last: %q)", last)
		}
	})
}
