// Package runner runs Claude Code tasks: one claude CLI process per
// conversation, driven the way Anthropic's SDKs drive it (stream-json on
// stdin and stdout, control requests for initialize, interrupt and
// can_use_tool).
//
// It knows nothing of LSP. A task reports what happens through an Observer
// (typed events and permission questions); the LSP server implements it one
// way and the terminal front end another.
//
// Ownership: the Manager owns the queue and the registry of tasks; each
// session (one claude process) owns two goroutines, one reading stdout and
// one waiting for the process, both ended by the process's exit; each task's
// Run owns its own turn until it reaches exactly one terminal state.
package runner
