package runner

import (
	"encoding/json"
	"strings"
	"testing"
)

// A permission question shows the call's key input whole, where the
// summary cuts it to a line of 80 characters: the user allows exactly what
// runs.
func TestKeyInputIsWhole(t *testing.T) {
	long := "go test ./... && " + strings.Repeat("echo step && ", 10) + "echo done"
	for _, c := range []struct {
		tool, input, key, summary string
	}{
		{"Bash", `{"command":` + jsonString(long) + `,"description":"run the tests"}`, long, "Bash: " + long[:80] + "…"},
		{"Edit", `{"file_path":"/w/server/main.go","old_string":"a","new_string":"b"}`, "server/main.go", "Edit server/main.go"},
		{"NotebookEdit", `{"notebook_path":"/elsewhere/n.ipynb"}`, "/elsewhere/n.ipynb", "NotebookEdit /elsewhere/n.ipynb"},
		{"WebFetch", `{"url":"https://example.com/x","prompt":"p"}`, "https://example.com/x", "WebFetch https://example.com/x"},
		{"Grep", `{"pattern":"func main","path":"/w/cmd"}`, "func main", `Grep "func main" in cmd`},
		{"Task", `{"description":"look around","prompt":"p"}`, "", "Task: look around"},
		{"Mystery", `"not an object"`, "", "Mystery"},
	} {
		in := decodeInput(json.RawMessage(c.input))
		if got := in.keyInput("/w"); got != c.key {
			t.Errorf("%s: key input %q, want %q", c.tool, got, c.key)
		}
		if got := Summarize(c.tool, json.RawMessage(c.input), "/w"); got != c.summary {
			t.Errorf("%s: summary %q, want %q", c.tool, got, c.summary)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
