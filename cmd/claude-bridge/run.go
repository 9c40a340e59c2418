package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/cmd/claude-bridge/terminal"
	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// runCmd is `claude-bridge run`: one task in a terminal.
func runCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var g globalFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	workspace := fs.String("workspace", ".", "the folder claude works in")
	model := fs.String("model", "", "claude model (default: claude's)")
	mode := fs.String("permission-mode", "acceptEdits", "default, acceptEdits, plan or bypassPermissions")
	allowed := fs.String("allowed-tools", "", "comma-separated tools allowed without asking")
	disallowed := fs.String("disallowed-tools", "", "comma-separated tools claude may not use")
	resume := fs.String("resume", "", "continue this claude session")
	authJSON := fs.String("auth", "", `auth settings as JSON, e.g. {"mode":"inherit"} or {"keyCommand":"pass show anthropic"}`)
	var imageFiles listFlag
	fs.Var(&imageFiles, "image", "an image (PNG, JPEG, GIF or WebP) to send with the prompt (repeatable)")
	review := reviewFlag(runner.ReviewAfterTurn)
	fs.Var(&review, "review", "review Claude's edits before they are written, hunk by hunk (--review, or --review=beforeWrite); --review=afterTurn (the default) only keeps a checkpoint to revert; --review=off neither")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: claude-bridge run [flags] PROMPT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	prompt := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if prompt == "" {
		fs.Usage()
		return 2
	}
	if err := runner.ValidPermissionMode(*mode); err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	var images []runner.Image
	for _, f := range imageFiles {
		img, err := runner.ReadImage(context.Background(), f)
		if err != nil {
			fmt.Fprintf(stderr, "claude-bridge: --image %s: %v\n", f, err)
			return 2
		}
		images = append(images, img)
	}
	if err := runner.CheckImages(images); err != nil {
		fmt.Fprintln(stderr, "claude-bridge: --image:", err)
		return 2
	}
	dir, err := filepath.Abs(*workspace)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(dir); err == nil && !st.IsDir() {
			err = fmt.Errorf("%s is not a directory", dir)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge: --workspace:", err)
		return 2
	}
	log, _, err := newLogger(g.logFile, g.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	defer log.Sync()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := authConfig(*authJSON, g.logFile)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	cleanupOnFatalSignals(log)
	a, err := auth.New(cfg, log, stderrNotifier{stderr})
	if err == nil {
		if err = a.Start(ctx); err != nil {
			_ = a.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge: authentication:", err)
		return 1
	}
	defer a.Close()

	scope, wd := guard(log)
	if wd != nil {
		defer wd.Close()
	}
	rcfg := runner.Config{ClaudePath: g.claude, Env: os.Environ(), Auth: a, FollowUpIdle: -1, Log: log, Scope: scope}
	if state := stateDir(); state != "" {
		rcfg.Checkpoints = checkpoint.NewStore(filepath.Join(state, "checkpoints"), checkpoint.Limits{})
		rcfg.Snapshots = checkpoint.NewSnapshots(filepath.Join(state, "snapshots"), "")
	}
	mgr := runner.NewManager(rcfg)
	ui := terminal.New(stdout, stderr, stdin, isTTY(stderr), dir)
	defer ui.Close()
	task, err := mgr.NewTask(runner.Spec{
		ID:     runTaskID(),
		Prompt: prompt, Workspace: dir, Roots: []string{dir}, Images: images, Review: string(review),
		Options: runner.Options{Model: *model, PermissionMode: *mode, AllowedTools: splitList(*allowed), DisallowedTools: splitList(*disallowed), ResumeSession: *resume},
	}, ui)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 1
	}

	// Ctrl-C once: interrupt claude (it stops cleanly); twice: kill it.
	// SIGTERM and SIGHUP (the terminal closed) count the same.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(stderr, "\nInterrupting claude… (Ctrl-C again to kill it)")
				task.Cancel()
			} else {
				fmt.Fprintln(stderr, "\nKilling claude.")
				mgr.Kill()
			}
		}
	}()

	out := mgr.Run(ctx, task)
	_ = mgr.Shutdown(context.Background())
	ui.Close()
	printChanges(stderr, out, dir)
	switch out.Status {
	case runner.StateCompleted:
		return 0
	case runner.StateCancelled:
		return 130
	}
	return 1
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && terminal.IsTerminal(f) && os.Getenv("TERM") != "dumb"
}

// stderrNotifier prints auth news in the terminal.
type stderrNotifier struct{ w io.Writer }

func (n stderrNotifier) ShowMessage(level auth.Level, text string) {
	prefix := "ℹ"
	if protocol.MessageType(level) <= protocol.MessageTypeWarning {
		prefix = "⚠"
	}
	fmt.Fprintf(n.w, "%s %s\n", prefix, text)
}

func (n stderrNotifier) AuthChanged(status, source, fp string) {}

// reviewFlag is --review: alone, beforeWrite; or --review=MODE.
type reviewFlag string

func (r *reviewFlag) String() string   { return string(*r) }
func (r *reviewFlag) IsBoolFlag() bool { return true }

func (r *reviewFlag) Set(v string) error {
	switch v {
	case "true":
		v = runner.ReviewBeforeWrite
	case "false":
		v = runner.ReviewOff
	}
	if err := runner.ValidReview(v); err != nil {
		return err
	}
	*r = reviewFlag(v)
	return nil
}

// runTaskID is a task id unique across runs (`claude-bridge revert` finds
// the task's checkpoint by it): run-<date>-<time>-<4 hex digits>.
func runTaskID() string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("run-%s-%x", time.Now().Format("20060102-150405"), b)
}

// printChanges prints what the task changed (its checkpoint) and how to
// take it back.
func printChanges(w io.Writer, out runner.Outcome, root string) {
	if out.Checkpoint == nil {
		return
	}
	states, problems := review.States(context.Background(), out.Checkpoint, nil)
	var lines []string
	for _, st := range states {
		if !st.Pending() {
			continue
		}
		lines = append(lines, "  "+changeLine(st, root))
	}
	notes := out.Checkpoint.Manifest().Uncovered
	for _, p := range problems {
		notes = append(notes, runner.RelPath(p.Path, root)+" cannot be reviewed or reverted: "+p.Reason)
	}
	for _, n := range notes {
		lines = append(lines, "  (not covered: "+n+")")
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "Changes of task %s:\n%s\n", out.TaskID, strings.Join(lines, "\n"))
	fmt.Fprintf(w, "Take them back with: claude-bridge revert %s [FILE]\n", out.TaskID)
}

// changeLine is one file of a task's changes: "M main.go  +3 -1 (2 hunks)".
func changeLine(st review.State, root string) string {
	mark := map[lspext.ChangeStatus]string{lspext.ChangeModified: "M", lspext.ChangeAdded: "A", lspext.ChangeDeleted: "D"}[st.Status]
	name := runner.RelPath(st.File.Path, root)
	note := ""
	if n := st.Note(); n != "" {
		note = " — " + n
	}
	switch {
	case st.Binary:
		return fmt.Sprintf("%s %s  (binary)%s", mark, name, note)
	case st.Link:
		return fmt.Sprintf("%s %s  (symbolic link)%s", mark, name, note)
	}
	added, removed, n := 0, 0, 0
	for _, h := range st.Hunks {
		if h.Intact {
			n++
			added += textedit.LineCount(h.NewText)
			removed += textedit.LineCount(h.OriginalText)
		}
	}
	return fmt.Sprintf("%s %s  +%d -%d (%d %s)%s", mark, name, added, removed, n, plural(n, "hunk", "hunks"), note)
}
