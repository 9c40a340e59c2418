package stream

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReaderReadsHugeLinesWhole(t *testing.T) {
	big := strings.Repeat("x", 20<<20)
	r := NewReader(strings.NewReader(`{"a":1}`+"\n"+big+"\r\n"+"last"), 0)
	var got []string
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l))
	}
	if len(got) != 3 || got[0] != `{"a":1}` || got[1] != big || got[2] != "last" {
		t.Fatalf("got %d lines, lengths %v", len(got), lens(got))
	}
}

func lens(ss []string) []int {
	var n []int
	for _, s := range ss {
		n = append(n, len(s))
	}
	return n
}

func TestReaderSkipsLinesOverTheCapAndGoesOn(t *testing.T) {
	input := "short\n" + strings.Repeat("y", 3000) + "\nafter\n" + strings.Repeat("z", 3000)
	r := NewReader(strings.NewReader(input), 1024)
	want := []string{"short", "ERR", "after", "ERR"}
	for i, w := range want {
		l, err := r.Next()
		if w == "ERR" {
			if !errors.Is(err, ErrLineTooLong) {
				t.Fatalf("line %d: err = %v, want ErrLineTooLong", i, err)
			}
			continue
		}
		if err != nil || string(l) != w {
			t.Fatalf("line %d = %q, %v; want %q", i, l, err, w)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v", err)
	}
}

func TestReaderLineExactlyAtTheCap(t *testing.T) {
	line := strings.Repeat("a", 1024)
	r := NewReader(strings.NewReader(line+"\n"), 1024)
	if l, err := r.Next(); err != nil || len(l) != 1024 {
		t.Fatalf("len %d, %v", len(l), err)
	}
}

func TestDecodeRejectsNonJSON(t *testing.T) {
	for _, in := range []string{"Welcome!", "", "[1,2]", `{"broken`, "\x1b[31mred"} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) succeeded", in)
		}
	}
}

// Every line the real CLI printed in the recorded transcripts decodes, and
// the fields the bridge relies on are where it looks for them.
func TestDecodeRecordedTranscripts(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/transcripts/*.jsonl")
	if len(files) < 5 {
		t.Fatalf("transcripts missing: %v", files)
	}
	types := map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			raw := sc.Bytes()
			var wrapped struct {
				Dir string          `json:"dir"`
				Msg json.RawMessage `json:"msg"`
			}
			if json.Unmarshal(raw, &wrapped) == nil && wrapped.Dir != "" {
				if wrapped.Dir != "from_claude" {
					continue
				}
				raw = wrapped.Msg
			}
			l, err := Decode(raw)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			types[l.Type+"/"+l.Subtype]++
			switch {
			case l.Type == "system" && l.Subtype == "init":
				if l.SessionID == "" || l.ClaudeCodeVersion != "2.1.332" || l.APIKeySource == "" {
					t.Errorf("%s: init = %+v", filepath.Base(f), l)
				}
			case l.Type == "system" && l.Subtype == "api_retry":
				if l.ErrorStatus != 401 || l.Attempt == 0 || l.MaxRetries != 10 || l.Error != "authentication_failed" {
					t.Errorf("%s: api_retry = %+v", filepath.Base(f), l)
				}
			case l.Type == "control_request":
				if l.Request == nil || l.Request.Subtype != "can_use_tool" || l.Request.ToolName == "" || l.RequestID == "" {
					t.Errorf("%s: control_request = %+v", filepath.Base(f), l.Request)
				}
			case l.Type == "result":
				if l.SessionID == "" || l.DurationMs == 0 && !l.IsError {
					t.Errorf("%s: result = %+v", filepath.Base(f), l)
				}
			}
		}
		fh.Close()
	}
	for _, k := range []string{"system/init", "assistant/", "user/", "result/success", "stream_event/", "control_request/", "control_response/", "system/api_retry"} {
		if types[k] == 0 {
			t.Errorf("no %s line decoded; saw %v", k, types)
		}
	}
}
