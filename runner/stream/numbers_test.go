package stream

import (
	"strings"
	"testing"
)

// TestNumbersAreDecodedTolerantly: a count, a duration or a cost that
// claude writes as a float (or as another value) does not drop the line
// it is in (issue 12: duration_ms 1234.5 lost the result line, and with
// it the task's outcome).
func TestNumbersAreDecodedTolerantly(t *testing.T) {
	l, err := Decode([]byte(`{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"s",` +
		`"duration_ms":1234.6,"num_turns":"3","total_cost_usd":"0.5","api_error_status":4.01e2}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Result != "done" || l.DurationMs != 1235 || l.NumTurns != 0 || l.TotalCostUSD != 0 || l.APIErrorStatus == nil || *l.APIErrorStatus != 401 {
		t.Errorf("result line: %+v", l)
	}
	l, err = Decode([]byte(`{"type":"system","subtype":"api_retry","attempt":2.0,"max_retries":1e1,"retry_delay_ms":500.5,"error_status":null,"error":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Attempt != 2 || l.MaxRetries != 10 || l.RetryDelayMs != 501 || l.ErrorStatus != 0 || l.Error != "x" {
		t.Errorf("retry line: %+v", l)
	}
	l, err = Decode([]byte(`{"type":"result","duration_ms":1e400,"num_turns":-5e300,"total_cost_usd":0.25}`))
	if err != nil || l.DurationMs <= 0 || l.NumTurns >= 0 || l.TotalCostUSD != 0.25 {
		t.Errorf("out of range: %+v %v", l, err)
	}
}

// TestResultErrorsDecodedTolerantly: a result's errors (claude's own
// messages, measured on 2.1.332 for a --resume it cannot do) are read
// whatever their shape, and never cost the line.
func TestResultErrorsDecodedTolerantly(t *testing.T) {
	for _, c := range []struct {
		errors string
		want   []string
	}{
		{`["No conversation found with session ID: x"]`, []string{"No conversation found with session ID: x"}},
		{`["a", {"m": 1}, "", null]`, []string{"a", `{"m": 1}`}},
		{`"one"`, []string{"one"}},
		{`null`, nil},
		{`{"m": 2}`, []string{`{"m": 2}`}},
	} {
		l, err := Decode([]byte(`{"type":"result","subtype":"error_during_execution","is_error":true,"errors":` + c.errors + `}`))
		if err != nil || l.Subtype != "error_during_execution" || strings.Join(l.Errors, "|") != strings.Join(c.want, "|") || len(l.Errors) != len(c.want) {
			t.Errorf("errors %s: %q %v, want %q", c.errors, l.Errors, err, c.want)
		}
	}
}

// TestSubagentStreamEventKeepsItsParent: the small decoder of stream_event
// lines keeps parent_tool_use_id, so a subagent's delta is not taken for
// the task's.
func TestSubagentStreamEventKeepsItsParent(t *testing.T) {
	l, err := Decode([]byte(`{"type":"stream_event","event":{"type":"message_start","message":{"id":"m"}},"parent_tool_use_id":"toolu_1"}`))
	if err != nil || l.ParentToolUseID == nil || *l.ParentToolUseID != "toolu_1" || l.Event.Message.ID != "m" {
		t.Errorf("%+v %v", l, err)
	}
}
