// Package terminal is the terminal front end of claude-bridge run: it
// prints a task's events as they happen (the agent's text on stdout, its
// tool uses, retries, to-dos and a live progress line on stderr) and asks
// on the terminal what needs a person: permission questions, claude's own
// questions (a numbered menu), its plans, edits to review hunk by hunk.
package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
)

// UI implements runner.Observer for a terminal.
type UI struct {
	out  io.Writer // the agent's text
	err  io.Writer // everything else
	in   io.Reader
	tty  bool // err is a terminal: redraw a progress line in place
	root string

	// lines are the lines typed on in, read by one goroutine (started by the
	// first question, ends at EOF of in, then closes lines): a question that
	// is withdrawn leaves no reader behind to take the next answer. It reads
	// a line only when asked (want), never ahead, so that a program run on
	// the terminal in between ($EDITOR) gets every key typed.
	readOnce sync.Once
	lines    chan string
	want     chan struct{}
	asked    bool // a line was asked for and not taken yet (guarded by mu)

	mu        sync.Mutex    // guards the output state below and serialises questions
	midLine   bool          // the last text written to out did not end a line
	status    string        // the progress line on screen (tty only)
	todo      string        // where claude's to-do list is, before each progress message
	todos     []runner.Todo // the to-do list as last printed
	lastInfo  string        // the last progress message printed (plain mode)
	spin      int
	ticker    *time.Ticker
	stopTick  chan struct{}
	closeOnce sync.Once
}

// New makes a UI. in answers permission questions; tty turns on the live
// progress line.
func New(out, errw io.Writer, in io.Reader, tty bool, root string) *UI {
	u := &UI{out: out, err: errw, in: in, tty: tty, root: root, lines: make(chan string), want: make(chan struct{}, 1)}
	if tty {
		u.ticker = time.NewTicker(120 * time.Millisecond)
		u.stopTick = make(chan struct{})
		go u.animate()
	}
	return u
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Close stops the progress line. It may be called more than once.
func (u *UI) Close() {
	u.closeOnce.Do(func() {
		if u.ticker != nil {
			u.ticker.Stop()
			close(u.stopTick)
		}
	})
	u.mu.Lock()
	u.clearStatusLocked()
	u.mu.Unlock()
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (u *UI) animate() {
	for {
		select {
		case <-u.stopTick:
			return
		case <-u.ticker.C:
			u.mu.Lock()
			if u.status != "" && !u.midLine {
				u.spin++
				u.drawStatusLocked()
			}
			u.mu.Unlock()
		}
	}
}

func (u *UI) drawStatusLocked() {
	fmt.Fprintf(u.err, "\r\033[K%s %s", spinner[u.spin%len(spinner)], u.status)
}

func (u *UI) clearStatusLocked() {
	if u.tty && u.status != "" && !u.midLine {
		fmt.Fprint(u.err, "\r\033[K")
	}
}

// progress shows what the agent is doing now (after where its to-do list
// is, when it keeps one).
func (u *UI) progress(msg string) {
	if msg == "" {
		return
	}
	if u.todo != "" && msg != u.todo {
		msg = u.todo + " · " + msg
	}
	if u.tty {
		u.status = msg
		if !u.midLine {
			u.drawStatusLocked()
		}
		return
	}
	if msg != u.lastInfo {
		u.lastInfo = msg
		u.lineLocked("… " + msg)
	}
}

// subagentLocked shows what a subagent did (ev.Parent set) on err, marked:
// its text is not the task's answer (stdout), and it never changes the
// task's to-do list.
func (u *UI) subagentLocked(ev runner.Event) {
	switch ev.Kind {
	case runner.EventText:
		u.lineLocked("  ↳ subagent: " + firstLine(ev.Text, 160))
	case runner.EventToolUse:
		u.lineLocked("  ↳ subagent → " + ev.ToolUse.Summary)
		if u.tty {
			u.progress("Subagent: " + ev.ToolUse.Summary)
		}
	case runner.EventToolResult:
		if l := u.resultLine(ev.ToolResult); l != "" {
			u.lineLocked("  ↳ subagent " + l)
		}
	}
}

// resultLine is what a tool result is worth a line for: its error, or the
// file it changed ("" for neither).
func (u *UI) resultLine(r *runner.ToolResult) string {
	switch {
	case r.IsError:
		return "✗ " + firstLine(r.Content, 160)
	case r.Change != nil:
		return "✓ changed " + runner.RelPath(r.Change.Path, u.root)
	}
	return ""
}

// lineLocked prints one line on err, keeping the agent's text and the
// progress line apart.
func (u *UI) lineLocked(s string) {
	u.clearStatusLocked()
	if u.midLine {
		fmt.Fprintln(u.out)
		u.midLine = false
	}
	fmt.Fprintln(u.err, s)
	if u.tty && u.status != "" {
		u.drawStatusLocked()
	}
}

// Event implements runner.Observer.
func (u *UI) Event(t *runner.Task, ev runner.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ev.Parent != "" {
		u.subagentLocked(ev)
		return
	}
	switch ev.Kind {
	case runner.EventQueued:
		if ev.Queued.Waiting {
			u.progress(fmt.Sprintf("Queued (%d ahead)", ev.Queued.Position))
		}
	case runner.EventStarted:
		st := ev.Started
		u.lineLocked(fmt.Sprintf("● claude %s · model %s · session %s · key from %s", st.ClaudeVersion, st.Model, st.SessionID, st.APIKeySource))
	case runner.EventActivity:
		u.progress(ev.Message)
	case runner.EventText:
		if !u.midLine {
			u.clearStatusLocked()
		}
		fmt.Fprint(u.out, ev.Text)
		u.midLine = !strings.HasSuffix(ev.Text, "\n")
		u.status = "Writing"
	case runner.EventThinking:
		u.progress("Thinking")
	case runner.EventToolUse:
		u.lineLocked("→ " + ev.ToolUse.Summary)
		if u.tty {
			u.progress(ev.ToolUse.Summary)
		}
	case runner.EventToolResult:
		if l := u.resultLine(ev.ToolResult); l != "" {
			u.lineLocked("  " + l)
		}
	case runner.EventPermission:
		p := ev.Permission
		if p.Automatic {
			verb := "allowed"
			if p.Decision == runner.Deny {
				verb = "denied"
			}
			u.lineLocked(fmt.Sprintf("  (%s %s: %s)", verb, p.Summary, p.Reason))
		}
	case runner.EventQuestion:
		q := ev.Question
		if len(q.Answers) == 0 {
			u.lineLocked("  ✗ Not answered: " + q.Reason)
		} else {
			u.lineLocked("  ✓ " + runner.FormatAnswers(q.Questions, q.Answers))
		}
	case runner.EventPlan:
		p := ev.Plan
		switch {
		case p.Approve:
			u.lineLocked("  ✓ Plan approved; carrying it out in " + p.Mode + " mode")
		case p.Feedback != "":
			u.lineLocked("  ↺ Keep planning: " + firstLine(p.Feedback, 160))
		case p.Reason != "":
			u.lineLocked("  ✗ Plan not approved: " + p.Reason)
		default:
			u.lineLocked("  ↺ Keep planning")
		}
	case runner.EventReview:
		u.reviewed(ev.Review)
	case runner.EventMode:
		u.lineLocked("ℹ Mode: " + ev.Mode.PermissionMode)
	case runner.EventTodos:
		u.showTodos(ev.Todos.Items)
	case runner.EventRetry:
		r := ev.Retry
		why := r.Error
		if r.ErrorStatus != 0 {
			why = fmt.Sprintf("HTTP %d", r.ErrorStatus)
		}
		u.lineLocked(fmt.Sprintf("↻ Retrying (%s, attempt %d of %d, in %.1fs)", why, r.Attempt, r.MaxRetries, float64(r.DelayMs)/1000))
	case runner.EventStatus:
		u.lineLocked("ℹ " + ev.Message)
	case runner.EventResult:
		o := ev.Outcome
		u.status = ""
		switch o.Status {
		case runner.StateCompleted:
			u.lineLocked(fmt.Sprintf("✔ Done in %.1fs · %d turns · $%.4f · %d files changed", float64(o.DurationMs)/1000, o.NumTurns, o.CostUSD, len(o.EditedFiles)))
		case runner.StateCancelled:
			u.lineLocked("✘ Cancelled")
		case runner.StateInterrupted:
			u.lineLocked("⏸ Interrupted")
		default:
			u.lineLocked("✘ Failed: " + o.Result)
		}
	}
}

// errInputClosed is readLine's error at EOF of the terminal's input.
var errInputClosed = errors.New("the terminal's input is closed")

// readLine prints prompt and returns the next line typed (trimmed). It
// fails when ctx ends (the question was withdrawn) or the input is closed.
// Called with mu held, by one question at a time.
func (u *UI) readLine(ctx context.Context, prompt string) (string, error) {
	u.readOnce.Do(func() {
		go func() { // ends at EOF (or an error) of the input
			defer close(u.lines)
			br := bufio.NewReader(u.in)
			for range u.want {
				line, err := br.ReadString('\n')
				if line != "" || err == nil {
					u.lines <- strings.TrimSpace(line)
				}
				if err != nil {
					return
				}
			}
		}()
	})
	if !u.asked {
		u.asked = true
		select {
		case u.want <- struct{}{}:
		default: // the reader has ended (EOF): lines is closed
		}
	}
	fmt.Fprint(u.err, prompt)
	select {
	case <-ctx.Done():
		fmt.Fprintln(u.err)
		return "", ctx.Err() // the line asked for goes to the next question
	case line, ok := <-u.lines:
		u.asked = false
		if !ok {
			fmt.Fprintln(u.err, "(no answer: input closed)")
			return "", errInputClosed
		}
		return line, nil
	}
}

// beginQuestion clears the progress line and ends the agent's text line.
// Called with mu held.
func (u *UI) beginQuestion() {
	u.clearStatusLocked()
	if u.midLine {
		fmt.Fprintln(u.out)
		u.midLine = false
	}
}

// AskPermission implements runner.Observer: y, n or a (always, for this task).
func (u *UI) AskPermission(ctx context.Context, t *runner.Task, req runner.PermissionRequest) (runner.Decision, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.beginQuestion()
	for {
		a, err := u.readLine(ctx, fmt.Sprintf("? Claude wants to run %s. Allow? [y]es / [n]o / [a]lways for this task: ", req.Summary))
		switch {
		case errors.Is(err, errInputClosed):
			return runner.Deny, "No answer: the terminal's input is closed."
		case err != nil:
			return runner.Deny, "The task was cancelled."
		}
		switch strings.ToLower(a) {
		case "y", "yes":
			return runner.Allow, "Allowed in the terminal."
		case "a", "always":
			return runner.AllowTask, req.ToolName + " allowed for this task in the terminal."
		case "n", "no":
			return runner.Deny, "The user denied " + req.ToolName + "."
		}
		fmt.Fprintln(u.err, "Please answer y, n or a.")
	}
}

func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}
