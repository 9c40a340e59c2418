package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommandFoldersStamp: the stamp of the command trees changes with
// anything claude would list differently: a file edited in place (same
// size, same name), a command added in a nested folder (/sub:name, which
// leaves the top folder's modification time alone), a skill's SKILL.md
// edited, a file removed; and stays when nothing changed.
func TestCommandFoldersStamp(t *testing.T) {
	ws, home := t.TempDir(), t.TempDir()
	write := func(path, text string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	greet := filepath.Join(ws, ".claude", "commands", "greet.md")
	skill := filepath.Join(home, ".claude", "skills", "tidy", "SKILL.md")
	write(greet, "---\ndescription: one\n---\nx\n", base)
	write(skill, "---\nname: tidy\n---\n", base)
	sub := filepath.Join(ws, ".claude", "commands", "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	stamp, newest := commandFolders(ws, home)
	if again, _ := commandFolders(ws, home); again != stamp {
		t.Fatal("the stamp changed with nothing changed")
	}
	if newest.Before(base) {
		t.Errorf("newest %v, before the files' %v", newest, base)
	}
	for _, c := range []struct {
		name   string
		change func()
	}{
		{"edited in place", func() { write(greet, "---\ndescription: two\n---\nx\n", base.Add(time.Second)) }},
		{"nested command added", func() { write(filepath.Join(sub, "new.md"), "new\n", base) }},
		{"skill edited", func() { write(skill, "---\nname: tody\n---\n", base.Add(2*time.Second)) }},
		{"removed", func() {
			if err := os.Remove(greet); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		c.change()
		now, _ := commandFolders(ws, home)
		if now == stamp {
			t.Errorf("%s: the stamp did not change", c.name)
		}
		stamp = now
	}
}

// BenchmarkCommandFolders: what stamping the command trees costs per
// claude.commands (target: under a millisecond for a usual tree of a few
// dozen files, against about 1.5 s for claude's own listing).
func BenchmarkCommandFolders(b *testing.B) {
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("%d files", n), func(b *testing.B) {
			ws, home := b.TempDir(), b.TempDir()
			for i := 0; i < n; i++ {
				dir := filepath.Join(ws, ".claude", "commands", fmt.Sprintf("d%d", i%10))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.md", i)), []byte("x\n"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				commandFolders(ws, home)
			}
		})
	}
}
