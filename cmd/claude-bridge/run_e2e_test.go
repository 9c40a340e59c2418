package main_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

func (w *world) runCmd(stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(binary, append([]string{"run", "--workspace", w.workspace}, args...)...)
	cmd.Env = w.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

func TestRunCommandStreamsTheTaskAndExitsZero(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Edit", map[string]any{"file_path": w.workspace + "/main.go", "old_string": `println("hello")`, "new_string": `println("hi")`}),
		fakeapi.Text("Changed the greeting."),
	})
	cmd, out, errb := w.runCmd("", "change the greeting")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	if out.String() != "Changed the greeting.\n" {
		t.Errorf("stdout = %q (want the agent's text only)", out)
	}
	for _, want := range []string{"→ Edit main.go", "✓ changed main.go", "✔ Done in", "$0."} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(w.workspace, "main.go")); !strings.Contains(string(b), `println("hi")`) {
		t.Errorf("main.go = %s", b)
	}
}

func TestRunCommandAsksPermissionOnTheTerminal(t *testing.T) {
	for _, answer := range []string{"y", "n"} {
		t.Run(answer, func(t *testing.T) {
			w := newWorld(t, keyA)
			w.writeKey(keyA, 0o600)
			w.api.SetTurns([]fakeapi.Turn{
				fakeapi.ToolUse("Bash", map[string]any{"command": "touch from-bash.txt"}),
				fakeapi.Text("ok"),
			})
			cmd, _, errb := w.runCmd(answer+"\n", "--permission-mode", "default", "make a file")
			if err := cmd.Run(); err != nil {
				t.Fatalf("run: %v\n%s", err, errb)
			}
			if !strings.Contains(errb.String(), "? Claude wants to run Bash: touch from-bash.txt. Allow?") {
				t.Errorf("no question on the terminal:\n%s", errb)
			}
			_, err := os.Stat(filepath.Join(w.workspace, "from-bash.txt"))
			if (err == nil) != (answer == "y") {
				t.Errorf("answer %s: file exists = %v", answer, err == nil)
			}
		})
	}
}

func TestRunCommandCtrlCInterrupts(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{slowText("never in time", 60*time.Second)})
	cmd, _, errb := w.runCmd("", "slow")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want 130\n%s", err, errb)
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if !strings.Contains(errb.String(), "✘ Cancelled") {
		t.Errorf("stderr:\n%s", errb)
	}
	assertGone(t, w.workspace)
}

func TestRunCommandFailsWithAReason(t *testing.T) {
	w := newWorld(t, keyA) // no key file, no key anywhere
	cmd, _, errb := w.runCmd("", "hi")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v\n%s", err, errb)
	}
	if !strings.Contains(errb.String(), "no API key available") {
		t.Errorf("the failure does not say why:\n%s", errb)
	}
}

func TestVersionAndDoctor(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "claude-bridge ") {
		t.Errorf("version: %q %v", out, err)
	}
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	cmd := exec.Command(binary, "doctor")
	cmd.Env = w.env()
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("doctor failed with everything in place: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "2.1.332") || strings.Contains(string(b), keyA) {
		t.Errorf("doctor output:\n%s", b)
	}
}

// TestRunCommandAsksClaudesQuestionsAsAMenu: claude's questions are
// numbered menus on the terminal; a number picks an option, several
// numbers pick several, the Other entry takes a text of the user's own;
// what was picked reaches the API.
func TestRunCommandAsksClaudesQuestionsAsAMenu(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	q := func(text, header string, multi bool, labels ...string) map[string]any {
		var opts []any
		for _, l := range labels {
			opts = append(opts, map[string]any{"label": l, "description": "about " + l})
		}
		return map[string]any{"question": text, "header": header, "multiSelect": multi, "options": opts}
	}
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("AskUserQuestion", map[string]any{"questions": []any{
			q("Which color?", "Color", false, "Blue", "Red"),
			q("Which features?", "Features", true, "Dark mode", "Search", "Export"),
			q("Anything else?", "Notes", false, "No", "Yes"),
		}}),
		fakeapi.Text("Noted."),
	})
	// An empty line asks again; the third question takes its Other entry
	// (3), then the text.
	cmd, out, errb := w.runCmd("2\n\n1, 3\n3\nMake it quick\n", "ask me")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	for _, want := range []string{"? Claude asks (Color): Which color?", "  1. Blue — about Blue", "  3. Other: type your own answer",
		"Answer with one or more numbers", "✓ Color: Red; Features: Dark mode, Export; Notes: Make it quick"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if out.String() != "Noted.\n" {
		t.Errorf("stdout = %q", out)
	}
	reqs := w.api.MessageRequests()
	last := string(reqs[len(reqs)-1].Messages)
	if !strings.Contains(last, `\"Which color?\"=\"Red\", \"Which features?\"=\"Dark mode, Export\", \"Anything else?\"=\"Make it quick\"`) {
		t.Errorf("the API did not get the answers: %s", last)
	}
}

// TestRunCommandShowsThePlanForApproval: in plan mode the plan is printed
// and approved on the terminal; claude then edits without asking (accept
// edits).
func TestRunCommandShowsThePlanForApproval(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Write", map[string]any{"file_path": fakeapi.PlanFileVar, "content": "# Plan\n\n1. Say hi\n"}),
		fakeapi.ToolUse("ExitPlanMode", map[string]any{}),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": w.workspace + "/main.go", "old_string": `println("hello")`, "new_string": `println("hi")`}),
		fakeapi.Text("Done."),
	})
	cmd, _, errb := w.runCmd("a\n", "--permission-mode", "plan", "plan a greeting")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	for _, want := range []string{"── Claude's plan", "# Plan\n\n1. Say hi\n", "? Approve the plan?", "✓ Plan approved; carrying it out in acceptEdits mode"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if strings.Contains(errb.String(), "Claude wants to run Edit") {
		t.Errorf("the edit was asked about after the plan was approved in acceptEdits:\n%s", errb)
	}
	if b, _ := os.ReadFile(filepath.Join(w.workspace, "main.go")); !strings.Contains(string(b), `println("hi")`) {
		t.Errorf("main.go = %s", b)
	}
}

// TestRunCommandFollowsTheToDoList: claude's to-do list shows on the
// terminal as it is made and completed, and the progress says which item
// is in progress.
func TestRunCommandFollowsTheToDoList(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	list := func(a, b string) map[string]any {
		return map[string]any{"todos": []any{
			map[string]any{"content": "Read the code", "status": a, "activeForm": "Reading the code"},
			map[string]any{"content": "Run the tests", "status": b, "activeForm": "Running the tests"},
		}}
	}
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("TodoWrite", list("completed", "in_progress")),
		fakeapi.ToolUse("TodoWrite", list("completed", "completed")),
		fakeapi.Text("Done."),
	})
	cmd, _, errb := w.runCmd("", "work")
	cmd.Env = append(cmd.Env, "CLAUDE_CODE_ENABLE_TASKS=0", "CLAUDE_CODE_ENABLE_TODO_TOOLS=1")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	for _, want := range []string{"☰ To-dos: ☑ Read the code · ◐ Run the tests", "… 2/2 Running the tests", "  ☑ Run the tests"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
}

// TestRunCommandSendsImages: --image files go with the prompt as image
// blocks; a file that is not an image is refused before anything runs.
func TestRunCommandSendsImages(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0P\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c!\x00\x00\x00\x00IEND\xaeB`\x82")
	img := filepath.Join(w.workspace, "screen shot.png")
	if err := os.WriteFile(img, png, 0o644); err != nil {
		t.Fatal(err)
	}
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("A dot.")})
	cmd, out, errb := w.runCmd("", "--image", img, "what is this?")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	if out.String() != "A dot.\n" {
		t.Errorf("stdout = %q", out)
	}
	reqs := w.api.MessageRequests()
	if len(reqs) == 0 || !strings.Contains(string(reqs[0].Messages), `"media_type":"image/png","data":"`+base64.StdEncoding.EncodeToString(png)+`"`) {
		t.Errorf("the API got no PNG image block")
	}
	cmd, _, errb = w.runCmd("", "--image", filepath.Join(w.workspace, "main.go"), "what is this?")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(errb.String(), "not a PNG, JPEG, GIF or WebP image") {
		t.Errorf("a Go file as --image: %v\n%s", err, errb)
	}
}
