package terminal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
)

// Colours of a diff on a terminal.
const (
	red   = "\033[31m"
	green = "\033[32m"
	cyan  = "\033[36m"
	reset = "\033[0m"
)

// ReviewEdit implements runner.EditReviewer: each hunk of the edit as a
// unified diff (coloured on a terminal), then y (write it), n (leave it
// out), e (edit it in $VISUAL or $EDITOR, else vi) or q (leave out this
// and every later hunk); then, when something was left out or edited, a
// line of feedback for claude.
func (u *UI) ReviewEdit(ctx context.Context, t *runner.Task, req runner.EditReview) runner.EditVerdict {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.beginQuestion()
	p := review.Propose(req, runner.RelPath(req.Path, u.root), "", false)
	fmt.Fprintf(u.err, "? %s\n", p.Message())
	keep := map[string]bool{}
	edits := map[int]string{} // hunk → the user's text for it
	quit := false
	for i := 0; i < len(p.Hunks) && !quit; i++ {
		h := p.Hunks[i]
		u.printHunk(p, i)
	ask:
		for {
			a, err := u.readLine(ctx, fmt.Sprintf("  Write hunk %d of %d? [y]es / [n]o / [e]dit / [q]uit (leave out the rest): ", i+1, len(p.Hunks)))
			switch {
			case errors.Is(err, errInputClosed):
				return p.Verdict(nil, "no answer: the terminal's input is closed")
			case err != nil:
				return p.Verdict(nil, "the question was withdrawn")
			}
			switch strings.ToLower(a) {
			case "y", "yes":
				keep[review.HunkID(i)] = true
				break ask
			case "n", "no":
				break ask
			case "q", "quit":
				quit = true
				break ask
			case "e", "edit":
				text, err := u.editText(p.Name, i, p.Proposed[h.NewStart:h.NewEnd])
				text = endLike(text, p.Proposed[h.NewStart:h.NewEnd], p.Original[h.OldStart:h.OldEnd])
				if err != nil {
					fmt.Fprintf(u.err, "  Could not edit the hunk: %v\n", err)
					continue
				}
				edits[i], keep[review.HunkID(i)] = text, true
				break ask
			}
			fmt.Fprintln(u.err, "  Please answer y, n, e or q.")
		}
	}
	res := &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, AcceptedHunks: []string{}}
	for i := range p.Hunks {
		if keep[review.HunkID(i)] {
			res.AcceptedHunks = append(res.AcceptedHunks, review.HunkID(i))
		}
	}
	if len(edits) > 0 {
		text := withEdits(p, keep, edits)
		res.Text = &text
	}
	if len(res.AcceptedHunks) < len(p.Hunks) || len(edits) > 0 {
		fb, err := u.readLine(ctx, "  Tell Claude why (Enter for nothing): ")
		if err == nil {
			res.Feedback = fb
		}
	}
	if len(res.AcceptedHunks) == 0 {
		res.Decision = lspext.ReviewReject
	}
	return p.Verdict(res, "")
}

// endLike gives the user's edited text of a hunk the line break the hunk
// ends with (proposed: claude's lines; for a hunk that deletes lines, the
// lines it deletes), when it has none: editors that save without a final
// newline (or a user who deleted it) would otherwise join the hunk's last
// line to the line after it. Text left empty removes the hunk's lines.
func endLike(text, proposed, original string) string {
	hunk := proposed
	if hunk == "" {
		hunk = original
	}
	if text == "" || strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\r") {
		return text
	}
	switch {
	case strings.HasSuffix(hunk, "\r\n"):
		return text + "\r\n"
	case strings.HasSuffix(hunk, "\n"):
		return text + "\n"
	case strings.HasSuffix(hunk, "\r"):
		return text + "\r"
	}
	return text
}

// withEdits is the original with the hunks kept, those the user edited as
// edited.
func withEdits(p review.Proposal, keep map[string]bool, edits map[int]string) string {
	var b strings.Builder
	pos := 0
	for i, h := range p.Hunks {
		if !keep[review.HunkID(i)] {
			continue
		}
		b.WriteString(p.Original[pos:h.OldStart])
		if text, ok := edits[i]; ok {
			b.WriteString(text)
		} else {
			b.WriteString(p.Proposed[h.NewStart:h.NewEnd])
		}
		pos = h.OldEnd
	}
	b.WriteString(p.Original[pos:])
	return b.String()
}

// printHunk prints hunk i as a unified diff with three lines of context.
func (u *UI) printHunk(p review.Proposal, i int) {
	h := p.Hunks[i]
	old := p.Original[h.OldStart:h.OldEnd]
	before := lastLines(p.Original[:h.OldStart], 3)
	after := firstLines(p.Original[h.OldEnd:], 3)
	diff := review.Unified(p.Name, before+old+after, before+p.Proposed[h.NewStart:h.NewEnd]+after, 3)
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
			continue
		case strings.HasPrefix(l, "@@"):
			l = fmt.Sprintf("@@ hunk %d of %d, %s @@", i+1, len(p.Hunks), h.Old.String())
			u.colour(cyan, l)
		case strings.HasPrefix(l, "-"):
			u.colour(red, l)
		case strings.HasPrefix(l, "+"):
			u.colour(green, l)
		default:
			fmt.Fprintln(u.err, l)
		}
	}
}

func (u *UI) colour(c, line string) {
	if u.tty {
		fmt.Fprintln(u.err, c+line+reset)
	} else {
		fmt.Fprintln(u.err, line)
	}
}

// lastLines is the last n lines of s (which ends with a line break).
func lastLines(s string, n int) string {
	i := len(s)
	for k := 0; k < n && i > 0; k++ {
		i = strings.LastIndexByte(s[:i-1], '\n') + 1
	}
	return s[i:]
}

func firstLines(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return s[:i]
}

// editText lets the user edit text in their editor ($VISUAL, $EDITOR, else
// vi), run on the terminal with nothing of ours reading it meanwhile.
func (u *UI) editText(name string, i int, text string) (string, error) {
	dir, err := os.MkdirTemp("", "claude-bridge-review-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, fmt.Sprintf("hunk%d-%s", i+1, filepath.Base(name)))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", err
	}
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.Command("/bin/sh", "-c", editor+` "$1"`, "editor", path)
	if f, ok := u.in.(*os.File); ok {
		cmd.Stdin = f
	}
	var w io.Writer = os.Stderr
	if f, ok := u.err.(*os.File); ok {
		w = f
	}
	cmd.Stdout, cmd.Stderr = w, w
	u.clearStatusLocked()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v", editor, err)
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// reviewed reports a review's outcome. Called with mu held.
func (u *UI) reviewed(r *runner.ReviewEvent) {
	name := runner.RelPath(r.Path, u.root)
	switch {
	case r.Reason != "":
		u.lineLocked(fmt.Sprintf("  ✗ %s not written: %s", name, r.Reason))
	case !r.Accept:
		u.lineLocked(fmt.Sprintf("  ✗ %s: rejected", name))
	case r.Edited:
		u.lineLocked(fmt.Sprintf("  ✓ %s: your version", name))
	case len(r.Rejected) > 0:
		u.lineLocked(fmt.Sprintf("  ✓ %s: wrote %s, left out %s", name, strings.Join(r.Accepted, ", "), strings.Join(r.Rejected, ", ")))
	}
}
