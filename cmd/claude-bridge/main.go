// Command claude-bridge lets editors run Claude Code tasks over LSP-framed
// JSON-RPC (serve), and people run the same tasks in a terminal (run).
// This file only parses flags and wires the packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/proctree"
	"github.com/claude-bridge/claude-bridge/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `claude-bridge: run Claude Code tasks from your editor.

Usage:
  claude-bridge [serve] [flags]            JSON-RPC (LSP framing) on stdin/stdout, for editors
  claude-bridge run [flags] PROMPT         run a task in a terminal
  claude-bridge revert TASK [FILE]...      take back what a task changed (its checkpoint)
  claude-bridge doctor [flags]             check the claude CLI and the API key set-up
  claude-bridge version                    print the version

Flags:
`

// globalFlags are shared by every subcommand.
type globalFlags struct {
	logFile  string
	logLevel string
	claude   string
}

func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.logFile, "log-file", defaultLogFile(), "log file (\"-\" for stderr); never stdout")
	fs.StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&g.claude, "claude", "", "path of the claude CLI (default: $CLAUDE_BRIDGE_CLAUDE, else claude on PATH)")
}

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func mainCode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case proctree.WatchdogArg: // hidden: started by serve and run, see guard
		if len(args) != 1 {
			return 2
		}
		return proctree.RunWatchdog(args[0], stdin)
	case "serve":
		return serve(args, stdin, stdout, stderr)
	case "run":
		return runCmd(args, stdin, stdout, stderr)
	case "revert":
		return revertCmd(args, stdout, stderr)
	case "doctor":
		return doctor(args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "claude-bridge %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		fs := flag.NewFlagSet("claude-bridge", flag.ContinueOnError)
		(&globalFlags{}).register(fs)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	fmt.Fprintf(stderr, "claude-bridge: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func serve(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var g globalFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	// LSP clients add these to a stdio server's command line
	// (vscode-languageclient with TransportKind.stdio); stdio is the only
	// transport, and the client's process id comes in initialize anyway.
	fs.Bool("stdio", true, "serve on stdin/stdout (the default and only transport)")
	fs.String("clientProcessId", "", "accepted and ignored")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, level, err := newLogger(g.logFile, g.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	defer log.Sync()
	log.Info("claude-bridge serving", zap.String("version", version))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	scope, wd := guard(log)
	if wd != nil {
		defer wd.Close()
	}
	base := authBase(g.logFile)
	srv := server.New(server.Options{
		Log:      log,
		Version:  version,
		Runner:   runner.Config{ClaudePath: g.claude, Env: os.Environ(), Log: log, Scope: scope},
		Auth:     &base,
		StateDir: stateDir(),
		SetLogLevel: func(l string) {
			if err := level.UnmarshalText([]byte(l)); err != nil {
				log.Warn("ignored an unknown log level", zap.String("level", l))
			}
		},
	})
	code := srv.Serve(ctx, stdin, stdout)
	log.Info("claude-bridge exiting", zap.Int("code", code))
	return code
}

var errUsage = errors.New("usage")

// guard makes the scope every claude of this bridge is tagged with, and
// starts its watchdog: should the bridge be killed outright (SIGKILL), the
// watchdog kills every process carrying the scope's tag (claude, and the
// Bash commands it started in sessions of their own). Without a watchdog
// (it could not start) the bridge still cleans up whenever it can run.
func guard(log *zap.Logger) (*proctree.Scope, *proctree.Watchdog) {
	scope := proctree.NewScope()
	exe, err := os.Executable()
	if err == nil {
		var wd *proctree.Watchdog
		if wd, err = proctree.StartWatchdog(exe, scope); err == nil {
			log.Debug("watchdog started", zap.Int("pid", wd.PID()), zap.String("scope", scope.Token()))
			return scope, wd
		}
	}
	log.Warn("no watchdog: processes of a bridge killed outright may survive it", zap.Error(err))
	return scope, nil
}
