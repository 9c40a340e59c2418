package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
)

// TestCommandsOfAClaudeThatReadTheFoldersBeforeAChange: claude reads its
// command folders as it starts, possibly before it answers initialize. A
// warm claude that read them, then a command file was written, then it
// answered, lists the old commands; claude.commands must not serve its
// list, though its answer came after the change (seen on the real CLI 1 in
// 11 runs with a file written 1.8 s after initialize). The fake claude
// here reads the folder, and the first one waits for the test to write the
// new command before it answers.
func TestCommandsOfAClaudeThatReadTheFoldersBeforeAChange(t *testing.T) {
	dir := t.TempDir()
	gate, once := filepath.Join(dir, "gate"), filepath.Join(dir, "once")
	fake := filepath.Join(dir, "claude")
	script := "#!/bin/sh\nIFS= read -r init || exit 1\n" +
		"cmds=''\nfor f in .claude/commands/*.md; do n=$(basename \"$f\" .md); cmds=\"$cmds${cmds:+,}{\\\"name\\\":\\\"$n\\\",\\\"description\\\":\\\"d (project)\\\"}\"; done\n" +
		"touch '" + dir + "/read.'$$\n" +
		"if mkdir '" + once + "' 2>/dev/null; then while [ ! -e '" + gate + "' ]; do sleep 0.02; done; fi\n" +
		`id=$(printf '%s' "$init" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')` + "\n" +
		`printf '{"type":"control_response","response":{"subtype":"success","request_id":"%s","response":{"commands":[%s]}}}\n' "$id" "$cmds"` + "\n" +
		"while IFS= read -r line; do :; done\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	commands := filepath.Join(ws, ".claude", "commands")
	if err := os.MkdirAll(commands, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(commands, "greet.md"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := runner.Config{ClaudePath: fake, StopGrace: 500 * time.Millisecond, FollowUpIdle: -1, MaxConcurrent: 3, Prewarm: true}
	m := runner.NewManager(cfg)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	}()
	m.SetFolders([]string{ws})
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s (stats %+v)", what, m.Stats())
			}
		}
	}
	until("the warm claude read the command folder", func() bool {
		read, _ := filepath.Glob(filepath.Join(dir, "read.*"))
		return len(read) == 1
	})
	if err := os.WriteFile(filepath.Join(commands, "gamma.md"), []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	until("the warm claude answered initialize", func() bool { return m.Stats().Warm == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := m.Commands(ctx, ws, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list.Commands {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "gamma,greet" {
		t.Errorf("commands = %v, want gamma and greet: the warm claude read the folder before gamma.md was written", names)
	}
}
