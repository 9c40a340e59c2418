package edits

import (
	"encoding/json"
	"errors"
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

func in(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func file(s string) File { return File{Exists: true, Data: []byte(s)} }

// TestApplyAsMeasured: the results claude 2.1.332 wrote in the
// measurements this package models (see the package comment).
func TestApplyAsMeasured(t *testing.T) {
	for _, c := range []struct {
		name, tool string
		input      map[string]any
		before     File
		want       string
	}{
		{"edit keeps the BOM and CRLF, new lines get CRLF", "Edit",
			map[string]any{"file_path": "/w/b.txt", "old_string": "line2", "new_string": "LINE2\nadded"},
			file("\ufeffline1\r\nline2\r\nline3\r\n"), "\ufeffline1\r\nLINE2\r\nadded\r\nline3\r\n"},
		{"a two-hunk edit", "Edit",
			map[string]any{"file_path": "/w/a.txt", "old_string": "line2\nline3\nline4\nline5", "new_string": "LINE2\nline3\nline4\nLINE5"},
			file("line1\nline2\nline3\nline4\nline5\nline6\n"), "line1\nLINE2\nline3\nline4\nLINE5\nline6\n"},
		{"write keeps the BOM, not the CRLF", "Write",
			map[string]any{"file_path": "/w/b.txt", "content": "x\ny\n"},
			file("\ufeffline1\r\nline2\r\n"), "\ufeffx\ny\n"},
		{"write creates", "Write", map[string]any{"file_path": "/w/c.txt", "content": "new\nfile\n"}, File{}, "new\nfile\n"},
		{"edit with curly quotes in the file", "Edit",
			map[string]any{"file_path": "/w/q.txt", "old_string": `say "hi"`, "new_string": `say "bye"`},
			file("x\nsay \u201chi\u201d\n"), "x\nsay \"bye\"\n"},
		{"multiedit in order", "MultiEdit",
			map[string]any{"file_path": "/w/m.txt", "edits": []any{map[string]any{"old_string": "a", "new_string": "b"}, map[string]any{"old_string": "b\nc", "new_string": "B\nC"}}},
			file("a\nc\n"), "B\nC\n"},
	} {
		got, err := Apply(c.tool, in(c.input), c.before)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestApplyRefusesWhatClaudeRefuses(t *testing.T) {
	for _, c := range []struct {
		input map[string]any
		want  string
	}{
		{map[string]any{"file_path": "/w/a", "old_string": "zzz", "new_string": "y"}, "String to replace not found"},
		{map[string]any{"file_path": "/w/a", "old_string": "x", "new_string": "y"}, "Found 2 matches"},
	} {
		_, err := Apply("Edit", in(c.input), file("x\nx\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v", c.input, err)
		}
	}
	if _, err := Apply("Edit", in(map[string]any{"file_path": "/w/a", "old_string": "x", "new_string": "y"}), file("caf\xe9\n")); err == nil {
		t.Error("a Latin-1 file was edited")
	}
}

const notebook = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "c1",
   "metadata": {},
   "outputs": [],
   "source": [
    "print('a')\n",
    "print('b')"
   ]
  },
  {
   "cell_type": "markdown",
   "id": "c2",
   "metadata": {},
   "source": ["# Title"]
  }
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// measuredNotebook is what claude 2.1.332 wrote after replacing c1's
// source and inserting a code cell after c1 (its id was 13a61385).
const measuredNotebook = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "c1",
   "metadata": {},
   "outputs": [],
   "source": "print('A')\nprint('b')\nprint('c')"
  },
  {
   "cell_type": "code",
   "id": "ID",
   "source": "x = 1",
   "metadata": {},
   "execution_count": null,
   "outputs": []
  },
  {
   "cell_type": "markdown",
   "id": "c2",
   "metadata": {},
   "source": [
    "# Title"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "name": "python3",
   "display_name": "Python 3",
   "language": "python"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func TestNotebookAsMeasured(t *testing.T) {
	one, err := Apply("NotebookEdit", in(map[string]any{"notebook_path": "/w/nb.ipynb", "cell_id": "c1", "new_source": "print('A')\nprint('b')\nprint('c')"}), file(notebook))
	if err != nil {
		t.Fatal(err)
	}
	two, err := Apply("NotebookEdit", in(map[string]any{"notebook_path": "/w/nb.ipynb", "cell_id": "c1", "new_source": "x = 1", "cell_type": "code", "edit_mode": "insert"}), File{Exists: true, Data: one})
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`"id": "[0-9a-f]{8}"`).ReplaceAllString(string(two), `"id": "ID"`)
	if got != measuredNotebook {
		t.Errorf("got\n%s\nwant\n%s", got, measuredNotebook)
	}
}

// TestRewriteLeavesTheTarget: for each tool, the version a reviewer kept
// (one hunk of two) is what the rewritten input makes claude write.
func TestRewriteLeavesTheTarget(t *testing.T) {
	before := file("\ufeffline1\r\nline2\r\nline3\r\nline4\r\nline5\r\nline6\r\n")
	edit := in(map[string]any{"file_path": "/w/a", "old_string": "line2\nline3\nline4\nline5", "new_string": "LINE2\nline3\nline4\nLINE5"})
	target := []byte("\ufeffline1\r\nLINE2\r\nline3\r\nline4\r\nline5\r\nline6\r\n")
	out, err := Rewrite("Edit", edit, before, target)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(out, &got)
	if got["old_string"] != "line2\n" || got["new_string"] != "LINE2\n" || got["file_path"] != "/w/a" {
		t.Errorf("rewritten edit %s", out)
	}
	// A region that is not unique widens until it is.
	dup := file("a\nx\nb\nx\nc\n")
	out, err = Rewrite("Edit", in(map[string]any{"file_path": "/w/d", "old_string": "b\nx", "new_string": "b\nX"}), dup, []byte("a\nx\nb\nX\nc\n"))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out, &got)
	if strings.Count(string(dup.Data), got["old_string"].(string)) != 1 {
		t.Errorf("old_string %q is not unique", got["old_string"])
	}
	// Write: the content without the BOM claude adds back.
	out, err = Rewrite("Write", in(map[string]any{"file_path": "/w/a", "content": "x"}), before, []byte("\ufeffmine\n"))
	if err != nil || !strings.Contains(string(out), `"content":"mine\n"`) {
		t.Errorf("write: %s %v", out, err)
	}
	// A notebook: the edited cell's source.
	nbIn := in(map[string]any{"notebook_path": "/w/nb.ipynb", "cell_id": "c1", "new_source": "print('A')\nprint('B')"})
	proposed, _ := Apply("NotebookEdit", nbIn, file(notebook))
	mine := strings.Replace(string(proposed), "print('B')", "print('b')", 1)
	if _, err := Rewrite("NotebookEdit", nbIn, file(notebook), []byte(mine)); err != nil {
		t.Errorf("notebook: %v", err)
	}
	// A notebook changed outside the cell cannot be written by NotebookEdit.
	other := strings.Replace(string(proposed), "# Title", "# Other", 1)
	if _, err := Rewrite("NotebookEdit", nbIn, file(notebook), []byte(other)); !errors.Is(err, ErrCannotExpress) {
		t.Errorf("notebook changed elsewhere: %v", err)
	}
}

// TestRewriteRandom: for random files (CRLF, a BOM, repeated lines) and
// random line-level targets in the file's own line breaks, Rewrite finds
// an Edit and a Write that leave exactly the target.
func TestRewriteRandom(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	lines := []string{"a", "b", "a", "x y", "é", ""}
	for i := 0; i < 2000; i++ {
		eol := []string{"\n", "\r\n"}[r.Intn(2)]
		var src []string
		for n := 1 + r.Intn(8); n > 0; n-- {
			src = append(src, lines[r.Intn(len(lines))])
		}
		dst := append([]string(nil), src...)
		for n := 1 + r.Intn(3); n > 0; n-- {
			k := r.Intn(len(dst))
			switch r.Intn(3) {
			case 0:
				dst[k] = "new" + dst[k]
			case 1:
				dst = append(dst[:k], append([]string{"ins"}, dst[k:]...)...)
			default:
				if len(dst) > 1 {
					dst = append(dst[:k], dst[k+1:]...)
				}
			}
		}
		prefix := ""
		if r.Intn(3) == 0 {
			prefix = "\ufeff"
		}
		before := []byte(prefix + strings.Join(src, eol) + eol)
		target := []byte(prefix + strings.Join(dst, eol) + eol)
		if string(before) == string(target) {
			continue
		}
		f := File{Exists: true, Data: before}
		for _, tool := range []string{"Edit", "Write"} {
			out, err := Rewrite(tool, in(map[string]any{"file_path": "/w/f", "old_string": "q", "new_string": "r", "content": "c"}), f, target)
			if err != nil {
				t.Fatalf("%s %q → %q: %v", tool, before, target, err)
			}
			if got, _ := Apply(tool, out, f); string(got) != string(target) {
				t.Fatalf("%s %s gives %q, want %q", tool, out, got, target)
			}
		}
	}
}
