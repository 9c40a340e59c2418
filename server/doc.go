// Package server is the editor side of claude-bridge: a JSON-RPC 2.0 server
// with LSP framing that editors start over stdio.
//
// It turns editor requests into runner tasks and runner events into LSP
// progress, claude/event notifications, permission questions
// (window/showMessageRequest) and buffer edits (workspace/applyEdit). It
// knows nothing of claude's processes.
//
// One file per concern: server.go (the connection, dispatch and request
// goroutines), lifecycle.go, config.go, folders.go, commands.go, task.go
// (one running task seen from the editor), progress.go, permissions.go,
// documents.go (text sync and carrying edits into buffers), edit_review.go
// (an edit held for review: claude/reviewEdit or window/showMessageRequest)
// and changes.go (a task's changes: claude/changes, claude.changes,
// claude.revert, claude.accept; the arithmetic is server/review's).
//
// Concurrency: the jsonrpc2 read loop calls handle; notifications are
// handled there, in order, and must not block; requests run on their own
// goroutines (task-starting ones at most maxRequests at once; quick ones,
// cancel, tasks, authStatus, shutdown, never refused), each with a recover
// that turns a panic into a -32603 reply.
package server
