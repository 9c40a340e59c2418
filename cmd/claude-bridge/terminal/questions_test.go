package terminal

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/runner"
)

func TestPickOptions(t *testing.T) {
	for _, c := range []struct {
		line   string
		multi  bool
		picked []int
		kind   answerKind
	}{
		{"2", false, []int{2}, answerOptions},
		{"1,3", true, []int{1, 3}, answerOptions},
		{"3 1 3", true, []int{3, 1}, answerOptions},
		{"4", false, nil, answerOther},
		{"4", true, nil, answerOther},
		{"blue please", false, nil, answerText},
		{"5 apples", false, nil, answerText},
		// Numbers that pick nothing are asked again, never sent as text.
		{"1,3", false, nil, answerInvalid}, // two numbers for one choice
		{"4,1", true, nil, answerInvalid},  // Other with an option
		{"5", false, nil, answerInvalid},   // out of range
		{"1,3,9", true, nil, answerInvalid},
		{"0", false, nil, answerInvalid},
		{"-1", false, nil, answerInvalid},
	} {
		picked, kind := pickOptions(c.line, 3, 4, c.multi)
		if kind != c.kind || !reflect.DeepEqual(picked, c.picked) {
			t.Errorf("pickOptions(%q, multi %v) = %v, %v; want %v, %v", c.line, c.multi, picked, kind, c.picked, c.kind)
		}
	}
}

// TestOutOfRangeNumberAsksAgain: at claude's question in claude-bridge
// run, "5" at a menu of 1 to 4 and "1,3,9" at a multiple choice are asked
// again (saying why), never sent to claude as the answer.
func TestOutOfRangeNumberAsksAgain(t *testing.T) {
	qs := []runner.Question{
		{Question: "Which color?", Header: "Color", Options: []runner.QuestionOption{{Label: "Blue"}, {Label: "Red"}, {Label: "Green"}}},
		{Question: "Which features?", Header: "Features", MultiSelect: true, Options: []runner.QuestionOption{{Label: "Dark"}, {Label: "Search"}, {Label: "Export"}}},
	}
	var errOut bytes.Buffer
	u := New(io.Discard, &errOut, strings.NewReader("5\n0\n2\n1,3,9\n4,1\n1,3\n"), false, "/w")
	answers, reason := u.AskQuestions(context.Background(), nil, runner.QuestionRequest{ToolUseID: "t", Questions: qs})
	want := map[string]string{"Which color?": "Red", "Which features?": "Dark, Export"}
	if reason != "" || !reflect.DeepEqual(answers, want) {
		t.Errorf("answers %v (%q), want %v", answers, reason, want)
	}
	for _, say := range []string{`"5" picks nothing`, `"0" picks nothing`, `"1,3,9" picks nothing`, `"4,1" picks nothing`} {
		if !strings.Contains(errOut.String(), say) {
			t.Errorf("the terminal does not say %s:\n%s", say, errOut.String())
		}
	}
}
