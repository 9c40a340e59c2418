package bufsync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// FuzzCarry generates (file on disk, unsaved user edit, agent edit) triples:
// a text of up to 12 lines with random line breaks (LF, CRLF, or a mix),
// with or without a UTF-8 byte-order mark, opened in an editor that either
// keeps one line break per buffer (VS Code; Neovim 'fileformat' dos) or
// keeps the file's bytes (Neovim 'fileformat' unix on a mixed file); the user
// retypes one line without saving (or not at all), and the agent replaces one
// line on disk keeping its line break, as claude's Edit does.
//
// It checks that a clean buffer always ends equal to the disk (in the
// editor's representation: no byte-order mark, its line breaks), and that a
// dirty one keeps every character the user typed: when the two changes are
// disjoint (at least one untouched line between them) the buffer holds both;
// otherwise it holds the user's text untouched (a conflict) or both.
//
// Seeds are below and in testdata/fuzz/FuzzCarry (go test runs them all);
// `make test` fuzzes it for a few seconds, `make fuzz` for longer.
func FuzzCarry(f *testing.F) {
	f.Add("a\nb\nc\nd\ne", uint8(0), false, false, uint8(0), "", uint8(3), "agent")
	f.Add("a\nb\nc\nd\ne", uint8(1), true, true, uint8(0), "user", uint8(4), "agent")
	f.Add("x", uint8(1), true, false, uint8(0), "", uint8(0), "y")
	f.Add("1\n2\n3\n4\n5\n6", uint8(2), false, false, uint8(1), "u", uint8(2), "a")
	f.Add("😀 é\n𝄞\n日本\nz", uint8(0x55), true, true, uint8(3), "ü", uint8(0), "🎉")
	f.Fuzz(func(t *testing.T, seed string, eols uint8, bom, oneEOL bool, userLine uint8, userText string, agentLine uint8, agentText string) {
		lines := strings.Split(strings.ReplaceAll(seed, "\r", ""), "\n")
		if len(lines) > 12 {
			lines = lines[:12]
		}
		userText = strings.NewReplacer("\r", "", "\n", "").Replace(userText)
		agentText = strings.NewReplacer("\r", "", "\n", "").Replace(agentText)
		if !validUTF8(seed, userText, agentText) {
			return
		}
		// The file: each line's break from the bits of eols (last line
		// without one: a final break is a line of its own here).
		breaks := make([]string, len(lines))
		for i := range lines {
			switch {
			case i == len(lines)-1:
				breaks[i] = ""
			case eols&(1<<(i%8)) != 0:
				breaks[i] = "\r\n"
			default:
				breaks[i] = "\n"
			}
		}
		join := func(ls []string, brk func(int) string) string {
			var b strings.Builder
			for i, l := range ls {
				b.WriteString(l)
				b.WriteString(brk(i))
			}
			return b.String()
		}
		fileBreak := func(i int) string { return breaks[i] }
		prefix := ""
		if bom {
			prefix = "\ufeff"
		}
		before := prefix + join(lines, fileBreak)

		// The editor's text of it: no BOM; one line break when the editor
		// keeps one (the majority, as VS Code chooses), else the file's.
		bufBreak := fileBreak
		if oneEOL {
			crlf := strings.Count(before, "\r\n")
			eol := "\n"
			if crlf > strings.Count(before, "\n")-crlf {
				eol = "\r\n"
			}
			bufBreak = func(i int) string {
				if breaks[i] == "" {
					return ""
				}
				return eol
			}
		}
		e := newFakeEditor(t, 0)
		e.oneEOL = oneEOL
		c, r := newCarrier(e)
		path := filepath.Join(t.TempDir(), "f.txt")
		if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
			t.Fatal(err)
		}
		u := e.openAs(path, join(lines, bufBreak))
		if d, _ := e.docs.Get(u); d.Dirty {
			t.Fatalf("unmodified buffer counts as dirty: %+v", d)
		}

		ul := int(userLine) % (len(lines) + 1) // len(lines): no user edit
		al := int(agentLine) % len(lines)
		userLines := append([]string(nil), lines...)
		if ul < len(lines) {
			e.typeText(u, textedit.ContentChange{Range: lineRange(uint32(ul + 1)), Text: userText})
			userLines[ul] = userText
		}
		typed := e.buffer(u)
		if typed != join(userLines, bufBreak) {
			t.Fatalf("typing: %q, want %q", typed, join(userLines, bufBreak))
		}

		agentLines := append([]string(nil), lines...)
		agentLines[al] = agentText
		after := prefix + join(agentLines, fileBreak)
		if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(after), Label: "Claude: Edit f.txt"}); err != nil {
			t.Fatal(err)
		}
		got := e.buffer(u)
		both := append([]string(nil), agentLines...)
		if ul < len(lines) {
			both[ul] = userText
		}
		switch {
		case ul == len(lines) || userText == lines[ul]:
			// Clean (or a no-op typing): the buffer is the disk, as the editor shows it.
			if want := join(agentLines, bufBreak); got != want {
				t.Fatalf("clean buffer = %q, want the disk %q (reports %v)", got, want, r.list())
			}
		case ul-al >= 2 || al-ul >= 2 || agentText == lines[al] || userText == agentText && ul == al:
			// Disjoint changes: both.
			if want := join(both, bufBreak); got != want {
				t.Fatalf("buffer = %q, want both changes %q (reports %v)", got, want, r.list())
			}
		default:
			// Touching changes: a conflict leaves the typing alone; a merge
			// has both. Never a lost keystroke.
			if got != typed && got != join(both, bufBreak) {
				t.Fatalf("buffer = %q: neither the user's %q nor both %q (reports %v)", got, typed, join(both, bufBreak), r.list())
			}
		}
		if ul < len(lines) && userText != lines[ul] && !strings.Contains(got, userText) {
			t.Fatalf("the user's text %q is gone from %q", userText, got)
		}
	})
}

// validUTF8: texts an editor can hold (claude refuses other files; a
// U+FEFF inside the text would read as a byte-order mark at its start).
func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.ContainsRune(s, '\ufeff') {
			return false
		}
	}
	return true
}
