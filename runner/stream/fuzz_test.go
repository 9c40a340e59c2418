package stream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzDecode: no line, however malformed or deep, makes Decode panic or
// overflow the stack; a line deeper than MaxDepth is never decoded (not
// an object, or ErrTooDeep).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"system","subtype":"init","session_id":"s","tools":["Bash"]}`))
	f.Add([]byte(`{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}}`))
	f.Add([]byte(`{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"t","name":"Edit","input":{"a":[{"b":{}}]}}]}}`))
	f.Add([]byte(`{"type":"user","message":{"content":"plain"},"tool_use_result":"Error"}`))
	f.Add([]byte(`{"type":"result","is_error":true,"api_error_status":401,"error":{"x":1}}`))
	f.Add([]byte(`{"type":"x","a":"` + strings.Repeat(`\"[{`, 10) + `"}`))
	f.Add([]byte(`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Decode(b)
		if TooDeep(b, MaxDepth) {
			if err == nil {
				t.Fatalf("a line deeper than %d levels was decoded", MaxDepth)
			}
			return
		}
		if err == nil && l == nil {
			t.Fatal("no line and no error")
		}
	})
}

// FuzzReader: the reader returns the input's lines, in order, each at
// most the cap, whatever the input; a line over the cap is reported and
// skipped, never returned in part.
func FuzzReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\r\nlast"), 16)
	f.Add([]byte(strings.Repeat("x", 300)+"\nshort\n"), 64)
	f.Add([]byte("\n\n\r\n"), 1)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max <= 0 || max > 1<<16 {
			return
		}
		var want [][]byte
		for _, l := range bytes.SplitAfter(in, []byte{'\n'}) {
			if len(l) == 0 {
				continue
			}
			want = append(want, l)
		}
		r := NewReader(bytes.NewReader(in), max)
		for i := 0; ; i++ {
			got, err := r.Next()
			if errors.Is(err, io.EOF) {
				if i != len(want) {
					t.Fatalf("%d lines read, want %d", i, len(want))
				}
				return
			}
			if i >= len(want) {
				t.Fatalf("line %d beyond the input's %d", i, len(want))
			}
			w := bytes.TrimSuffix(bytes.TrimSuffix(want[i], []byte{'\n'}), []byte{'\r'})
			if bytes.HasSuffix(want[i], []byte{'\n'}) && len(want[i]) > max+1 || !bytes.HasSuffix(want[i], []byte{'\n'}) && len(want[i]) > max {
				if !errors.Is(err, ErrLineTooLong) {
					t.Fatalf("line %d (%d bytes, cap %d): err = %v", i, len(want[i]), max, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, w) {
				t.Fatalf("line %d = %q, %v; want %q", i, got, err, w)
			}
		}
	})
}

// A line of a million levels (what crashed the bridge at four million) is
// refused quickly and without recursion.
func TestDecodeRefusesDeepNesting(t *testing.T) {
	deep := []byte(`{"type":"assistant","message":` + strings.Repeat(`{"a":`, 1_000_000) + "1" + strings.Repeat("}", 1_000_000) + "}")
	if _, err := Decode(deep); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("err = %v", err)
	}
	fine := []byte(`{"type":"x","v":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`)
	if _, err := Decode(fine); err != nil {
		t.Fatalf("a line at the limit: %v", err)
	}
}
