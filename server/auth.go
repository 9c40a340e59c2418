package server

import (
	"context"
	"encoding/json"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
)

// AuthService is the auth manager as the server sees it: the runner's hooks
// plus status, reconfiguration and shutdown.
type AuthService interface {
	runner.Auth
	// Status is the claude.authStatus reply.
	Status() any
	// Reconfigure applies new auth settings (the "auth" object).
	Reconfigure(raw json.RawMessage) error
	Close() error
}

// AuthNotifier is how the auth manager talks to the editor.
type AuthNotifier interface {
	ShowMessage(typ protocol.MessageType, msg string)
	AuthChanged(status, source, fingerprint string)
}

// AuthFactory makes the auth manager from the editor's auth settings.
type AuthFactory func(ctx context.Context, raw json.RawMessage, n AuthNotifier) (AuthService, error)
