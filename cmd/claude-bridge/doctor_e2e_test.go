package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctorSaysWhatIsWrongWithClaude: doctor names a claude that is not
// executable, or that fails, with the fix for it and claude's own words,
// never "install it" (issue 16).
func TestDoctorSaysWhatIsWrongWithClaude(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".local", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".local", "bin", "claude"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'cannot read settings.json' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	doctor := func(args ...string) string {
		cmd := exec.Command(binary, append([]string{"doctor", "--log-file", filepath.Join(home, "log")}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("doctor exited 0:\n%s", out)
		}
		return string(out)
	}
	out := doctor()
	for _, want := range []string{"FAIL  claude CLI at ~/.local/bin/claude is not executable\n", "fix: run `chmod +x ~/.local/bin/claude`"} {
		if !strings.Contains(out, want) {
			t.Errorf("not executable: %q not in\n%s", want, out)
		}
	}
	out = doctor("--claude", failing)
	for _, want := range []string{"exited with code 3: cannot read settings.json)", "fix: run `" + failing + " --version` in a terminal"} {
		if !strings.Contains(out, want) {
			t.Errorf("failing: %q not in\n%s", want, out)
		}
	}
	if strings.Contains(out, "install it with") {
		t.Errorf("a failing claude is not a missing one:\n%s", out)
	}
}
