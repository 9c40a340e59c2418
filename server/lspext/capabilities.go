package lspext

// ClientCapabilities is what an editor declares it can do beyond LSP, as
// capabilities.experimental.claudeBridge in initialize:
//
//	"capabilities": {"experimental": {"claudeBridge": {"permission": true, "ask": true, "plan": true, "reviewEdit": true}}}
//
// An editor that declares nothing gets LSP's own requests instead (a
// permission question and each of claude's questions as a
// window/showMessageRequest, a plan as window/showDocument and a
// window/showMessageRequest, an edit to review as a
// window/showMessageRequest), so any LSP client can run tasks.
type ClientCapabilities struct {
	// Permission is true when the editor answers claude/permission
	// (permission questions with what is to be allowed whole, the tool's
	// input, and deferred answers). Optional: default false.
	Permission bool `json:"permission,omitempty"`
	// Ask is true when the editor answers claude/ask (claude's questions,
	// several at once, multiple choice and free text). Optional: default
	// false.
	Ask bool `json:"ask,omitempty"`
	// Plan is true when the editor answers claude/plan (claude's plan to
	// approve, in a mode of the user's choice, or to send back with
	// feedback). Optional: default false.
	Plan bool `json:"plan,omitempty"`
	// ChecksEditVersions is true when the editor refuses (applied=false)
	// a versioned workspace/applyEdit for another version than its
	// buffer's, so that applied=true means the edit is in. The bridge's
	// Neovim plugin declares it: Neovim's own client (0.7.2) answers
	// applied=true for an edit it skipped as older than its buffer and
	// never checks an edit for version 0. Optional: default false.
	ChecksEditVersions bool `json:"checksEditVersions,omitempty"`
	// ReviewEdit is true when the editor answers claude/reviewEdit (an
	// edit held before it is written, review beforeWrite: shown as a diff,
	// accepted per hunk, edited, or rejected with feedback). Optional:
	// default false.
	ReviewEdit bool `json:"reviewEdit,omitempty"`
}
