package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/server"
)

// authAdapter fits runner/auth's Manager to the runner's and the server's
// interfaces.
type authAdapter struct {
	m    *auth.Manager
	base auth.Config
}

func (a *authAdapter) Launch() (runner.Launch, error) {
	l, err := a.m.Launch()
	return runner.Launch{Args: l.Args, Env: l.Env, HelperPath: l.HelperPath}, err
}

func (a *authAdapter) CheckInit(src string) string { return a.m.CheckInit(src) }

func (a *authAdapter) On401(ctx context.Context, taskID string) runner.AuthDecision {
	d := a.m.On401(ctx, taskID)
	out := runner.AuthDecision{Message: d.Message, Abort: d.Abort}
	if d.Err != nil {
		out.Reason = d.Err.Error()
	}
	return out
}

func (a *authAdapter) TaskEnded(taskID string) { a.m.ForgetTask(taskID) }
func (a *authAdapter) Fingerprint() string     { return a.m.Fingerprint() }
func (a *authAdapter) Explain() string         { return a.m.Explain() }
func (a *authAdapter) Rotated(ctx context.Context, fp string) bool {
	return a.m.Rotated(ctx, fp, 2*time.Second)
}
func (a *authAdapter) Status() any  { return a.m.Status() }
func (a *authAdapter) Close() error { return a.m.Close() }

func (a *authAdapter) Reconfigure(raw json.RawMessage) error {
	var cfg auth.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("auth settings: %w", err)
	}
	if cfg.AuditPath == "" {
		cfg.AuditPath = a.base.AuditPath
	}
	cfg.Home, cfg.Environ = a.base.Home, a.base.Environ
	return a.m.Reconfigure(cfg)
}

// authConfig decodes the editor's (or the terminal's) auth settings over
// the bridge's defaults.
func authConfig(raw json.RawMessage, logFile string) (auth.Config, error) {
	cfg := auth.Config{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return cfg, fmt.Errorf("auth settings: %w", err)
		}
	}
	if cfg.AuditPath == "" && logFile != "" && logFile != "-" {
		cfg.AuditPath = filepath.Join(filepath.Dir(logFile), "auth-audit.jsonl")
	}
	return cfg, nil
}

// startAuth makes and starts the auth manager.
func startAuth(ctx context.Context, cfg auth.Config, log *zap.Logger, n auth.Notifier) (*authAdapter, error) {
	m, err := auth.New(cfg, log.Named("auth"), n)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ctx); err != nil {
		_ = m.Close()
		return nil, err
	}
	return &authAdapter{m: m, base: cfg}, nil
}

// newAuthFactory is the server's way to make the auth manager once the
// editor has sent its settings.
func newAuthFactory(log *zap.Logger, logFile string) server.AuthFactory {
	return func(ctx context.Context, raw json.RawMessage, n server.AuthNotifier) (server.AuthService, error) {
		cfg, err := authConfig(raw, logFile)
		if err != nil {
			return nil, err
		}
		return startAuth(ctx, cfg, log, lspAuthNotifier{n})
	}
}

// lspAuthNotifier passes auth news to the editor.
type lspAuthNotifier struct{ n server.AuthNotifier }

func (l lspAuthNotifier) ShowMessage(level auth.Level, text string) {
	if !strings.HasPrefix(text, "claude-bridge") {
		text = "claude-bridge: " + text
	}
	l.n.ShowMessage(protocol.MessageType(level), text)
}

func (l lspAuthNotifier) AuthChanged(status, source, fp string) { l.n.AuthChanged(status, source, fp) }
