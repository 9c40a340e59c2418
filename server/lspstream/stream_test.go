package lspstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
)

func frame(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }

func TestReadSkipsBadMessagesAndAnswersThem(t *testing.T) {
	var out bytes.Buffer
	big := strings.Repeat("x", 2000)
	input := frame(`{"jsonrpc":"2.0","id":1,"method":"a"}`) +
		frame(`{oops`) +
		"content-length: 41\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + `{"jsonrpc":"2.0","method":"b","params":1}` +
		frame(`[{"jsonrpc":"2.0","method":"c"}]`) +
		frame(`{"jsonrpc":"2.0","id":7,"method":"`+big+`"}`) +
		frame(`{"jsonrpc":"2.0","id":2,"method":"d"}`)
	s := New(strings.NewReader(input), &out, Options{MaxMessage: 1000})
	var methods []string
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
			methods = append(methods, m.Method())
		case *jsonrpc2.Notification:
			methods = append(methods, m.Method())
		}
	}
	if strings.Join(methods, ",") != "a,b,d" {
		t.Errorf("served %v, want a, b and d", methods)
	}
	s.Flush(2 * time.Second)
	replies := out.String()
	for _, want := range []string{`"code":-32700`, `"code":-32600`, "batch requests are not supported", "exceeds the limit"} {
		if !strings.Contains(replies, want) {
			t.Errorf("replies lack %q:\n%s", want, replies)
		}
	}
}

// A request with "id": null is refused with -32600 and id null (JSON-RPC
// 2.0), neither served as a notification nor left unanswered; a
// notification (no id member) is served.
func TestRequestWithNullIDIsRefused(t *testing.T) {
	var out bytes.Buffer
	input := frame(`{"jsonrpc":"2.0","id":null,"method":"claude.tasks"}`) +
		frame(`{"jsonrpc":"2.0","method":"n"}`)
	s := New(strings.NewReader(input), &out, Options{})
	var served []string
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
			served = append(served, "call "+m.Method())
		case *jsonrpc2.Notification:
			served = append(served, "notification "+m.Method())
		}
	}
	if strings.Join(served, ",") != "notification n" {
		t.Errorf("served %v, want only the notification", served)
	}
	s.Flush(2 * time.Second)
	replies := out.String()
	if strings.Count(replies, "Content-Length") != 1 || !strings.Contains(replies, `"id":null`) || !strings.Contains(replies, `"code":-32600`) {
		t.Errorf("replies:\n%s", replies)
	}
}

func TestLowerCaseHeaderAndExtraHeaders(t *testing.T) {
	body := `{"jsonrpc":"2.0","method":"x"}`
	in := fmt.Sprintf("content-type: a/b\r\ncontent-length: %d\r\n\r\n%s", len(body), body)
	s := New(strings.NewReader(in), io.Discard, Options{})
	msg, _, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := msg.(*jsonrpc2.Notification); !ok || n.Method() != "x" {
		t.Fatalf("msg = %#v", msg)
	}
}

func TestWriteFramesOneMessage(t *testing.T) {
	var out bytes.Buffer
	s := New(strings.NewReader(""), &out, Options{})
	n, _ := jsonrpc2.NewNotification("hello", map[string]int{"a": 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled request's reply must still be written
	if _, err := s.Write(ctx, n); err != nil {
		t.Fatal(err)
	}
	s.Flush(2 * time.Second)
	want := `{"jsonrpc":"2.0","method":"hello","params":{"a":1}}`
	if out.String() != frame(want) {
		t.Errorf("wrote %q", out.String())
	}
}

// TestInvalidMessagesGetTheirIDAndJSONRPCsCode: JSON that is not a
// JSON-RPC message gets -32600 (never -32700, which is for what is not
// JSON), with the request's id whenever it can be read (a message nested
// too deeply to decode included), in words without Go's types (issue 12).
func TestInvalidMessagesGetTheirIDAndJSONRPCsCode(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for _, c := range []struct {
		body, id, text string
		code           int
	}{
		{`42`, `null`, "a message must be a JSON object, not a number", -32600},
		{`"hello"`, `null`, "a message must be a JSON object, not a string", -32600},
		{`null`, `null`, "a message must be a JSON object, not null", -32600},
		{`{"jsonrpc":"2.0","id":3,"method":5}`, `3`, "method must be a string, not a number", -32600},
		{`{"jsonrpc":"2.0","id":"x","method":{}}`, `"x"`, "method must be a string, not an object", -32600},
		{`{"jsonrpc":"2.0","id":4,"method":"m","params":` + deep + `}`, `4`, "nested more than 512 levels", -32600},
		{`{"jsonrpc":"2.0","params":` + deep + `,"id":"late"}`, `"late"`, "nested more than 512 levels", -32600},
		{`{"jsonrpc":"2.0","id":null,"method":"m"}`, `null`, "a request's id must be a number or a string, not null", -32600},
		{`{"jsonrpc":"2.0","id":[1],"method":"m"}`, `null`, "id must be a string or a number, not an array", -32600},
		{`{"jsonrpc":"2.0","id":5}`, `5`, "not a request, a notification or a response", -32600},
		{`{"jsonrpc":"2.0","id":6,`, `null`, "parse error", -32700},
	} {
		var out bytes.Buffer
		s := New(strings.NewReader(frame(c.body)+frame(`{"jsonrpc":"2.0","method":"next"}`)), &out, Options{})
		msg, _, err := s.Read(context.Background())
		if err != nil {
			t.Fatalf("%.60s: read: %v", c.body, err)
		}
		if n, ok := msg.(*jsonrpc2.Notification); !ok || n.Method() != "next" {
			t.Errorf("%.60s: then read %v, want the next message", c.body, msg)
		}
		s.Flush(2 * time.Second)
		var reply struct {
			ID    json.RawMessage `json:"id"`
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		body := out.String()
		if i := strings.Index(body, "\r\n\r\n"); i >= 0 {
			body = body[i+4:]
		}
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			t.Fatalf("%.60s: reply %q: %v", c.body, out.String(), err)
		}
		if string(reply.ID) != c.id || reply.Error.Code != c.code || !strings.Contains(reply.Error.Message, c.text) {
			t.Errorf("%.60s: reply id %s, %d %q; want id %s, %d saying %q", c.body, reply.ID, reply.Error.Code, reply.Error.Message, c.id, c.code, c.text)
		}
		if strings.Contains(reply.Error.Message, "Go ") || strings.Contains(reply.Error.Message, "unmarshal") {
			t.Errorf("%.60s: Go's words in %q", c.body, reply.Error.Message)
		}
	}
}
