package lspext

// Reviewing the agent's edits (README "Reviewing Claude's edits"): the
// review setting, the claude/reviewEdit request (beforeWrite), the
// claude/changes notification and the claude.changes, claude.revert and
// claude.accept commands (afterTurn; checkpoints are kept in beforeWrite
// too, so any reviewed task can be taken back).

// ReviewMode is when the user reviews the agent's changes to files: the
// review setting (Configuration.review, and per task in claude.run and
// claude.followUp).
type ReviewMode string

// The review modes.
const (
	// ReviewOff: claude writes files as its permission mode allows, and
	// nothing is kept to take a task back.
	ReviewOff ReviewMode = "off"
	// ReviewBeforeWrite: every Edit, MultiEdit, Write and NotebookEdit is
	// held before it touches the disk, in every permission mode, and the
	// user accepts it (all of it, some hunks, or a version of their own)
	// or rejects it (claude/reviewEdit); the task's changes are
	// checkpointed too.
	ReviewBeforeWrite ReviewMode = "beforeWrite"
	// ReviewAfterTurn: claude writes freely; the bridge keeps a checkpoint
	// of every file the task changes (file tools, Bash commands, new and
	// deleted files) and lists the changes when the task ends
	// (claude/changes), to revert or accept.
	ReviewAfterTurn ReviewMode = "afterTurn"
)

// ReviewModes are all the review modes.
var ReviewModes = []ReviewMode{ReviewOff, ReviewBeforeWrite, ReviewAfterTurn}

// ReviewDecision is the user's answer to a claude/reviewEdit.
type ReviewDecision string

// The review decisions.
const (
	ReviewAccept ReviewDecision = "accept" // write the proposal (all of it, acceptedHunks, or text)
	ReviewReject ReviewDecision = "reject" // write nothing
)

// ReviewDecisions are all the review decisions.
var ReviewDecisions = []ReviewDecision{ReviewAccept, ReviewReject}

// ChangeStatus is what a task did to a file.
type ChangeStatus string

// The change statuses.
const (
	ChangeModified ChangeStatus = "modified" // the file was there before the task and is now, changed
	ChangeAdded    ChangeStatus = "added"    // the task created the file
	ChangeDeleted  ChangeStatus = "deleted"  // the task deleted the file
)

// ChangeStatuses are all the change statuses.
var ChangeStatuses = []ChangeStatus{ChangeModified, ChangeAdded, ChangeDeleted}

// ReviewEditParams is the params of claude/reviewEdit, which the bridge
// sends an editor that declares ClientCapabilities.reviewEdit when claude
// is about to change a file (review beforeWrite). Nothing is on disk yet:
// claude waits for the answer. The editor shows original ↔ proposed (the
// proposal editable), per hunk, and replies with ReviewEditResult.
type ReviewEditParams struct {
	// TaskID is the task whose agent wants to write.
	TaskID string `json:"taskId"`
	// ToolUseID is the tool call; its toolUse event carries the same id,
	// and its review event will.
	ToolUseID string `json:"toolUseId"`
	// URI is the file's URI, as the editor knows it (the open document's
	// URI when the file is open).
	URI string `json:"uri"`
	// Tool is the tool: "Edit", "MultiEdit", "Write" or "NotebookEdit".
	Tool string `json:"tool"`
	// Original is the file as the user sees it now: the open buffer's text
	// (unsaved changes included), else the file on disk as an editor shows
	// it (no UTF-8 byte-order mark; its own line breaks); "" for a file
	// claude creates.
	Original string `json:"original"`
	// Proposed is the whole file as claude would leave it, in the same
	// representation as original (so unsaved changes of the buffer that
	// claude's change does not touch are in both).
	Proposed string `json:"proposed"`
	// Hunks are the changed regions, in order, as line-based hunks: each
	// replaces whole lines of original ("" originalText: lines inserted
	// before range.start; "" proposedText: lines deleted).
	Hunks []ReviewHunk `json:"hunks"`
	// Notice, when set, is something the user must be told with the
	// review: the buffer's unsaved changes overlap claude's change in a way
	// its call cannot be applied to, so original is the file as saved and
	// the buffer will not get what is accepted. (When claude's call does
	// apply to the buffer, original is the buffer and what is accepted
	// lands in it.) Optional.
	Notice string `json:"notice,omitempty"`
}

// ReviewHunk is one changed region of a proposal.
type ReviewHunk struct {
	// ID names the hunk in acceptedHunks ("h1", "h2", … in order).
	ID string `json:"id"`
	// Range is the region in original, in UTF-16 code units: whole lines,
	// from the start of the first to the start of the line after the last
	// (or the end of the text).
	Range Range `json:"range"`
	// OriginalText is original's text in range.
	OriginalText string `json:"originalText"`
	// ProposedText is what claude puts there.
	ProposedText string `json:"proposedText"`
}

// ReviewEditResult is the editor's reply to claude/reviewEdit. null (or a
// dismissed review) is a reject.
type ReviewEditResult struct {
	// Decision is accept or reject. Required unless deferred.
	Decision ReviewDecision `json:"decision,omitempty"`
	// AcceptedHunks keeps, with accept, only these hunks (by id); the
	// others are left out of what is written. Optional: absent accepts
	// every hunk; [] accepts none (a reject).
	AcceptedHunks []string `json:"acceptedHunks,omitempty"`
	// Text is, with accept, the user's own version of the whole file (the
	// proposal as the user edited it, in original's representation); it is
	// written instead of the proposal, and claude is told the user changed
	// its edit. Wins over acceptedHunks. Optional.
	Text *string `json:"text,omitempty"`
	// Feedback is what the user tells claude about the edit (why hunks were
	// rejected, what to do instead). Optional.
	Feedback string `json:"feedback,omitempty"`
	// Deferred is true when the editor answers later with claude.answer
	// (an editor whose request handlers must return at once: Neovim before
	// 0.10); the other fields are then ignored. Optional.
	Deferred bool `json:"deferred,omitempty"`
}

// ReviewAnswer is claude.answer's review: a deferred claude/reviewEdit's
// answer, as its ReviewEditResult would carry it (a decision is required).
type ReviewAnswer struct {
	// Decision is accept or reject.
	Decision ReviewDecision `json:"decision"`
	// AcceptedHunks keeps, with accept, only these hunks, as in
	// ReviewEditResult. Optional.
	AcceptedHunks []string `json:"acceptedHunks,omitempty"`
	// Text is, with accept, the user's own version of the whole file, as in
	// ReviewEditResult. Optional.
	Text *string `json:"text,omitempty"`
	// Feedback is what the user tells claude about the edit. Optional.
	Feedback string `json:"feedback,omitempty"`
}

// ReviewEvent (kind "review") reports how a held edit was reviewed (review
// beforeWrite); it comes once the user answered, or the review was given
// up (reason).
type ReviewEvent struct {
	EventHeader
	// ToolUseID is the tool call's id (see ToolUseEvent).
	ToolUseID string `json:"toolUseId"`
	// URI is the file's URI.
	URI string `json:"uri"`
	// Tool is the tool's name.
	Tool string `json:"tool"`
	// Decision is accept (something was written) or reject (nothing was).
	Decision ReviewDecision `json:"decision"`
	// AcceptedHunks are the ids of the hunks written.
	AcceptedHunks []string `json:"acceptedHunks"`
	// RejectedHunks are the ids of the hunks left out.
	RejectedHunks []string `json:"rejectedHunks"`
	// Edited is true when the user's own version was written (text).
	Edited bool `json:"edited"`
	// Feedback is the user's feedback to claude. Optional.
	Feedback string `json:"feedback,omitempty"`
	// Reason says why nobody decided ("dismissed in the editor", "nobody
	// answered within 10m0s", "the task was cancelled"). Optional.
	Reason string `json:"reason,omitempty"`
}

// ChangesParams is the claude/changes notification, sent when a task whose
// review is afterTurn or beforeWrite ends having changed files: every file
// the task changed (by file tools, Bash commands or anything else while it
// ran), against the checkpoint the bridge took before the task's first
// change to it. It is also the reply of claude.changes.
type ChangesParams struct {
	// TaskID is the task.
	TaskID string `json:"taskId"`
	// Files are the changed files, by path; empty when nothing is left to
	// review (all accepted or reverted).
	Files []FileChanges `json:"files"`
	// Uncovered says what the bridge could not checkpoint, if anything, one
	// sentence each ("Bash commands' changes in /p are not covered: git is
	// not installed; only files open in the editor and files Claude edits
	// with its file tools are."). Optional.
	Uncovered []string `json:"uncovered,omitempty"`
}

// FileChanges is what a task changed in one file.
type FileChanges struct {
	// URI is the file's URI, as the editor knows it.
	URI string `json:"uri"`
	// Status is modified, added or deleted.
	Status ChangeStatus `json:"status"`
	// Hunks are the task's changes, line-based, with ranges in the file as
	// it is now (today's file); only those still the task's: a hunk a later
	// change (another task, the user) overwrote is left out, and a file
	// whose hunks all were is listed without any until it is accepted.
	// Empty for a binary file.
	Hunks []ChangeHunk `json:"hunks"`
	// Binary is true for a file that is not UTF-8 text: it has no hunks,
	// and a revert takes back the whole file. Optional.
	Binary bool `json:"binary,omitempty"`
	// Note says, for people, what else the task changed or what a revert
	// of the file will not do: "permissions 0644 → 0755" (a chmod is a
	// change, taken back with the file), "before the task a symbolic link
	// to lib/v1.js; when it ended a file" (reverted whole: the link made
	// again), "changed by task t2 too while this task ran: a revert leaves
	// it", "hunk f1h2 changed since the task (by a later task or by you):
	// its lines are not as the task left them: not listed, and a revert
	// leaves it". Optional.
	Note string `json:"note,omitempty"`
}

// ChangeHunk is one change a task made to a file.
type ChangeHunk struct {
	// ID names the hunk in claude.revert, unique in the task ("f1h2": the
	// second hunk of the task's first file, files in path order).
	ID string `json:"id"`
	// Range is where the change is in the file now, in UTF-16 code units:
	// whole lines (an empty range where lines were deleted).
	Range Range `json:"range"`
	// OriginalText is what the lines were before the task.
	OriginalText string `json:"originalText"`
	// NewText is what the task made of them (the text now in range).
	NewText string `json:"newText"`
	// Note, when set, says that the hunk is not this task's alone and a
	// revert leaves it: another task running at the same time changed
	// these lines too, or its Bash command ran meanwhile and may have made
	// the change ("task t2 changed these lines too while this task ran:
	// reverting them would undo its work"), or the user saved changes to
	// these lines in the editor meanwhile. Optional.
	Note string `json:"note,omitempty"`
}

// ChangesArgs is arguments[0] of claude.changes.
type ChangesArgs struct {
	// TaskID is the task. Required.
	TaskID string `json:"taskId"`
}

// RevertArgs is arguments[0] of claude.revert: take back a task's changes,
// all of them, one file's, or some hunks. A revert is carried like any
// change: written to disk and into open buffers (three-way merged, unsaved
// edits kept). Only what is still the task's is reverted: a hunk changed
// again since (by a later task, by the user on disk, or overlapping the
// user's unsaved edits in an open buffer) is left as it is and reported.
type RevertArgs struct {
	// TaskID is the task. Required.
	TaskID string `json:"taskId"`
	// URI is the one file to revert. Optional: default every file of the
	// task.
	URI string `json:"uri,omitempty"`
	// Hunks are the ids of the hunks to revert (ChangeHunk.id). Optional:
	// default every hunk (of uri, or of the task).
	Hunks []string `json:"hunks,omitempty"`
}

// RevertResult is the reply of claude.revert: per file, what was reverted
// and what could not be.
type RevertResult struct {
	// Files are the files the revert concerned, in path order.
	Files []RevertedFile `json:"files"`
}

// RevertedFile is what a revert did to one file.
type RevertedFile struct {
	// URI is the file's URI.
	URI string `json:"uri"`
	// Reverted are the ids of the hunks taken back.
	Reverted []string `json:"reverted"`
	// NotReverted are the hunks left as they are, and why.
	NotReverted []NotReverted `json:"notReverted"`
	// Restored is true when the file is now as it was before the task (gone
	// again if the task created it): every change of the task's was taken
	// back. A binary file is restored whole or not at all (message says
	// why not).
	Restored bool `json:"restored"`
	// Message says what happened to the file, for a person ("main.go: 2
	// hunks reverted, 1 not: changed since the task"). Optional.
	Message string `json:"message,omitempty"`
}

// NotReverted is a hunk a revert left alone.
type NotReverted struct {
	// ID is the hunk's id.
	ID string `json:"id"`
	// Reason says why: "changed since the task (by a later task or by
	// you)", "overlaps your unsaved changes (lines 4-5 of your buffer)",
	// "the file could not be written: …".
	Reason string `json:"reason"`
}

// AcceptArgs is arguments[0] of claude.accept: keep a task's changes and
// drop their checkpoint (a file, or all of the task's).
type AcceptArgs struct {
	// TaskID is the task. Required.
	TaskID string `json:"taskId"`
	// URI is the one file to accept. Optional: default every file.
	URI string `json:"uri,omitempty"`
}

// AcceptResult is the reply of claude.accept.
type AcceptResult struct {
	// Accepted are the URIs of the files whose checkpoint was dropped.
	Accepted []string `json:"accepted"`
}
