package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/cmd/claude-bridge/terminal"
	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
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
	mgr := runner.NewManager(runner.Config{ClaudePath: g.claude, Env: os.Environ(), Auth: a, FollowUpIdle: -1, Log: log, Scope: scope})
	ui := terminal.New(stdout, stderr, stdin, isTTY(stderr), dir)
	defer ui.Close()
	task, err := mgr.NewTask(runner.Spec{
		Prompt: prompt, Workspace: dir, Roots: []string{dir},
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
	switch out.Status {
	case runner.StateCompleted:
		return 0
	case runner.StateCancelled:
		return 130
	}
	return 1
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
