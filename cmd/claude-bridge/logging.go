package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// defaultLogFile is $XDG_STATE_HOME/claude-bridge/bridge.log, else
// ~/.local/state/claude-bridge/bridge.log.
func defaultLogFile() string {
	dir := stateDir()
	if dir == "" {
		return filepath.Join(os.TempDir(), "claude-bridge.log")
	}
	return filepath.Join(dir, "bridge.log")
}

// stateDir is the bridge's own folder: $XDG_STATE_HOME/claude-bridge, else
// ~/.local/state/claude-bridge ("" without a home directory).
func stateDir() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "claude-bridge")
}

// newLogger logs JSON lines to path (mode 0600), never to stdout, which
// belongs to the protocol. "-" logs to stderr.
func newLogger(path, level string) (*zap.Logger, zap.AtomicLevel, error) {
	lvl := zap.NewAtomicLevel()
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, lvl, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	var ws zapcore.WriteSyncer
	if path == "-" {
		ws = zapcore.Lock(os.Stderr)
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, lvl, fmt.Errorf("log directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, lvl, fmt.Errorf("log file: %w", err)
		}
		ws = zapcore.Lock(f)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), ws, lvl)
	return zap.New(core).With(zap.Int("pid", os.Getpid())), lvl, nil
}
