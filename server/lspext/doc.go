// Package lspext is the editor-facing protocol of claude-bridge beyond LSP:
// the workspace/executeCommand commands (claude.run, claude.followUp,
// claude.cancel, claude.tasks, claude.authStatus) with their arguments and
// replies, the notifications the bridge sends (claude/event with one type per
// event kind, claude/editConflict, claude/authChanged), the requests it
// sends the editor (a permission question, claude/ask), the configuration
// object an editor sends as initializationOptions or as
// settings.claudeBridge, and the capabilities an editor declares as
// capabilities.experimental.claudeBridge.
//
// These Go types are the protocol's single source: `make generate` turns
// them into editors/protocol.schema.json (JSON Schema 2020-12, the doc
// comments becoming descriptions), the VS Code extension's TypeScript
// declarations (editors/vscode/src/lspExt.ts) and the Neovim plugin's
// LuaCATS annotations (editors/nvim/lua/claude_bridge/types.lua); a test
// fails when the committed files differ from what the types generate. The
// layout follows rust-analyzer's lsp/ext.rs and its client's lsp_ext.ts.
//
// Conventions, as in LSP: field names are camelCase; an optional field is
// `omitempty` and is absent (never null) when unset, and a pointer where its
// zero value means something; every other field is always present. URIs are
// file:// URIs as the editor spells them; times are RFC 3339; durations say
// their unit in their name (durationMs, delayMs).
//
// Decode, DecodeLSP and DecodeEach read what the editor sends by the rules
// the generated schema states (types, ranges, enumerations, no null, the
// jsonschema tags' patterns and lengths, and a type's rules on its fields
// together: RequiresOneOf, OneOfFields, DependentRequired), with errors in
// JSON's terms; the server has no other way of decoding arguments,
// settings and the editor's replies to its own requests. An id or a name
// is never blank (pattern \S), optional or not: "" is refused alike in
// every command.
//
// The package depends on nothing but the standard library (and
// internal/quote, which cuts values an error repeats), so that the server,
// the tests and the generator can all import it.
package lspext
