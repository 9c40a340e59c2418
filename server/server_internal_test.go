package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

func TestPanicInAHandlerBecomesAnInternalErrorReply(t *testing.T) {
	s := New(Options{})
	res, err := s.guard("claude.run", func() (any, error) {
		var m map[string]int
		m["boom"]++ // a nil-map write: a real bug, not a test double
		return "unreachable", nil
	})
	var rpc *jsonrpc2.Error
	if res != nil || !errors.As(err, &rpc) || rpc.Code != jsonrpc2.InternalError || !strings.Contains(rpc.Message, "claude.run") {
		t.Fatalf("guard = %v, %v", res, err)
	}
}

// Numbers keep their spelling (no float rounding makes two ids one);
// strings are keyed by their value (encoders escape "/" or not).
func TestRequestIDKeys(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"5", "5"}, {"5.0", "5.0"}, {" 7 ", "7"}, {`"5"`, `"5"`}, {`"a\/b"`, `"a/b"`},
		{"9007199254740993", "9007199254740993"}, {"9007199254740992", "9007199254740992"},
	} {
		if got := rawIDKey([]byte(c.raw)); got != c.want {
			t.Errorf("rawIDKey(%s) = %s, want %s", c.raw, got, c.want)
		}
	}
}

func TestMentions(t *testing.T) {
	rng := func(sl, sc, el, ec uint32) *lspext.ContextRef {
		r := &lspext.ContextRef{URI: "file:///w/a/b.go"}
		r.Range = &lspext.Range{}
		r.Range.Start.Line, r.Range.Start.Character = sl, sc
		r.Range.End.Line, r.Range.End.Character = el, ec
		return r
	}
	cases := []struct {
		ref  lspext.ContextRef
		want string
	}{
		{lspext.ContextRef{URI: "file:///w/a/b.go"}, "@a/b.go"},
		{*rng(4, 0, 10, 0), "@a/b.go#L5-10"},
		{*rng(4, 2, 9, 7), "@a/b.go#L5-10"},
		{*rng(4, 0, 4, 9), "@a/b.go#L5"},
		{lspext.ContextRef{URI: "file:///elsewhere/c.go"}, "@/elsewhere/c.go"},
	}
	for _, c := range cases {
		got, err := withMentions(context.Background(), "p", []lspext.ContextRef{c.ref}, "/w", nil)
		if err != nil || got != "p\n\n"+c.want {
			t.Errorf("%+v: %q, %v; want %q", c.ref, got, err, c.want)
		}
	}
}
