package runner_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// The API cuts streamed text between UTF-16 code units: a character past
// U+FFFF (an emoji, each half of a flag) may end one delta with its high
// surrogate and start the next with its low one, and claude prints each
// half escaped. With every code unit a delta of its own, the real claude
// CLI's deltas reach the observer as text that joins up to the API's,
// with no U+FFFD in any event, text and thinking alike.
func TestSurrogatesSplitAcrossDeltasJoinUp(t *testing.T) {
	const text = "Flags 🇫🇷🇩🇪, a clef 𝄞 and 😀 done."
	const thinking = "Thinking of 🎉 and 🇯🇵."
	e := newEnv(t, []fakeapi.Turn{{
		Blocks:     []fakeapi.Block{{Type: "thinking", Text: thinking}, {Type: "text", Text: text}},
		ChunkUnits: 1,
	}}, nil)
	rec := &recorder{}
	out := e.run(t, "say it with emoji", rec, "")
	if out.Status != runner.StateCompleted || out.Result != text {
		t.Fatalf("outcome = %+v", out)
	}
	if got := rec.text(); got != text {
		t.Errorf("text events join to %q, want %q", got, text)
	}
	var think strings.Builder
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, ev := range rec.events {
		if ev.Kind == runner.EventThinking {
			think.WriteString(ev.Text)
		}
		if ev.Kind == runner.EventText || ev.Kind == runner.EventThinking {
			n++
			if strings.ContainsRune(ev.Text, utf8.RuneError) || !utf8.ValidString(ev.Text) {
				t.Errorf("a %s event carries %q", ev.Kind, ev.Text)
			}
		}
	}
	if think.String() != thinking {
		t.Errorf("thinking events join to %q, want %q", think.String(), thinking)
	}
	if n == 0 {
		t.Error("no text events")
	}
}
