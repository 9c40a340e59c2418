package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
)

// doctor checks the claude CLI and the key set-up, printing a fix for each
// problem; it exits non-zero when something is wrong.
func doctor(args []string, stdout, stderr io.Writer) int {
	var g globalFlags
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	authJSON := fs.String("auth", "", "auth settings as JSON (as in the editor's claudeBridge.auth)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := authConfig(*authJSON, g.logFile)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge:", err)
		return 2
	}
	m, err := auth.New(cfg, zap.NewNop(), nil)
	if err != nil {
		fmt.Fprintf(stdout, "%-5s %s\n", "FAIL", "auth settings: "+err.Error())
		return 1
	}
	defer m.Close()
	// The helper run below writes the runtime directory.
	cleanupOnFatalSignals(zap.NewNop())
	// claude --version runs with the environment a launch gives claude: no
	// key from the bridge's environment.
	info, foundIn := claudeInfo(ctx, g.claude, m.ClaudeEnv(os.Environ()))
	if foundIn != "" {
		// Where it was found matters when it is not where the editor's PATH
		// points (a desktop launcher's PATH often lacks ~/.local/bin).
		fmt.Fprintf(stdout, "%-5s %s\n", "info", "claude CLI found through "+foundIn)
	}
	if !m.Doctor(ctx, stdout, info) {
		return 1
	}
	return 0
}

// claudeInfo finds claude and asks its version, running it with env (less
// the variables that may hold a credential, runner.CheckClaude);
// foundIn says how it was found (runner.ClaudeLocation).
func claudeInfo(ctx context.Context, configured string, env []string) (info auth.ClaudeInfo, foundIn string) {
	loc, err := runner.LocateClaude(configured, os.Getenv)
	if err != nil {
		return auth.ClaudeInfo{Err: err, Problem: runner.ClaudeProblem(err), Fix: runner.ClaudeFix(err)}, ""
	}
	v, err := runner.CheckClaude(ctx, loc.Path, env)
	if err != nil {
		return auth.ClaudeInfo{Path: loc.Path, Err: err, Problem: runner.ClaudeProblem(err), Fix: runner.ClaudeFix(err)}, loc.FoundIn
	}
	return auth.ClaudeInfo{Path: loc.Path, Version: v}, loc.FoundIn
}
