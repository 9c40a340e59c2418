package server

import (
	"context"
	"encoding/json"

	"github.com/claude-bridge/claude-bridge/runner"
)

// buffers keeps the editor's open documents and carries agent edits into
// them. (Wired to server/documents and server/bufsync.)
type buffers struct {
	s *Server
}

func newBuffers(s *Server) *buffers { return &buffers{s: s} }

func (b *buffers) didOpen(json.RawMessage)                          {}
func (b *buffers) didChange(json.RawMessage)                        {}
func (b *buffers) didClose(json.RawMessage)                         {}
func (b *buffers) didSave(json.RawMessage)                          {}
func (b *buffers) taskStarted(*taskView)                            {}
func (b *buffers) taskEnded(*taskView)                              {}
func (b *buffers) carry(context.Context, string, runner.FileChange) {}
func (b *buffers) close()                                           {}
