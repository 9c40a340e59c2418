package fakeapi

import (
	"context"
	"encoding/json"
	"testing"
)

// TestPlanFileVar: {{planFile}} in a tool input and a text becomes the plan
// file the request names (claude's plan-mode reminder), per request; a
// request that names none gets "".
func TestPlanFileVar(t *testing.T) {
	write := Turn{Blocks: []Block{
		{Type: "text", Text: "Writing the plan to {{planFile}}."},
		{Type: "tool_use", Name: "Write", Input: map[string]any{"file_path": "{{planFile}}", "content": "# Plan", "nested": []any{"{{planFile}}"}}},
	}}
	s := Start(t, Config{Turns: []Turn{write}})
	const plan = "/home/me/.claude/plans/add-a-flag-quiet-otter.md"
	body := func(reminder string) map[string]any {
		return map[string]any{"model": "m", "stream": false, "messages": []map[string]any{
			{"role": "user", "content": []map[string]any{{"type": "text", "text": reminder}}},
		}}
	}
	answer := func(reminder string) (text string, input map[string]any) {
		resp := post(t, context.Background(), s.URL(), "k", body(reminder))
		defer resp.Body.Close()
		var m struct {
			Content []struct {
				Text  string         `json:"text"`
				Input map[string]any `json:"input"`
			} `json:"content"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Content) != 2 {
			t.Fatalf("answer: %v %+v", err, m)
		}
		return m.Content[0].Text, m.Content[1].Input
	}
	text, in := answer("Plan mode is active.\nNo plan file exists yet. You should create your plan at " + plan + " using the Write tool.")
	if text != "Writing the plan to "+plan+"." || in["file_path"] != plan || in["nested"].([]any)[0] != plan || in["content"] != "# Plan" {
		t.Fatalf("substituted: %q %v", text, in)
	}
	if _, in := answer("no plan here"); in["file_path"] != "" {
		t.Fatalf("without a plan file: %v", in)
	}
	if write.Blocks[1].Input["file_path"] != "{{planFile}}" {
		t.Fatal("the script itself was changed")
	}
}
