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
	"runtime/pprof"
	"syscall"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
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
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the whole session to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "claude-bridge:", err)
			return 2
		}
		defer stopProfile()
	}
	log, level, err := newLogger(g.logFile, g.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	defer log.Sync()
	log.Info("claude-bridge serving", zap.String("version", version))

	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	cleanupOnFatalSignals(log)
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

// startCPUProfile profiles the process into path until the returned
// function is called (for `make bench`'s profile of the real end-to-end
// run: testdata/bench -profile DIR).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// stopSignals stop the bridge gracefully: its tasks are cancelled, claude
// stops, and the auth manager removes the runtime directory with the key
// file it may hold. SIGHUP is a terminal or ssh session closing, which
// would otherwise end the process on the spot.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// fatalSignals are the other signals a Go program dies of when sent by
// kill: the runtime prints every goroutine's stack and exits with status 2,
// without running any deferred cleanup. (Go catches and ignores the rest:
// SIGUSR1, SIGALRM or an outside SIGPIPE leave the bridge running,
// measured.)
var fatalSignals = []os.Signal{syscall.SIGQUIT, syscall.SIGABRT}

// cleanupOnFatalSignals makes a fatal signal remove the bridge's runtime
// directories (the key file from its environment, the settings and helper
// configuration) before the bridge dies of it as it would have: Go's own
// handling of the signal is restored and the signal sent again, so the
// goroutine dump and exit status 2 stay. The goroutine's owner is the
// process; it ends with it.
func cleanupOnFatalSignals(log *zap.Logger) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, fatalSignals...)
	go func() {
		sig := <-ch
		log.Warn("dying of a signal; the runtime directories go first", zap.Stringer("signal", sig))
		auth.RemoveRuntimeDirs()
		_ = log.Sync()
		signal.Reset(sig)
		if s, ok := sig.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), s)
		}
	}()
}

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
