package lspext

// EditConflictParams is the claude/editConflict notification: an agent
// change on disk did not reach an open buffer, or the bridge cannot tell
// that it did. Either it overlapped unsaved changes, or the editor refused
// or failed to apply the edit, and the buffer was left untouched; or the
// editor answered that it applied the edit but never reported (didChange)
// the buffer changing, so the change may not be in it. The message says
// which; a window/showMessage names the file too, and the task gets a
// status event.
type EditConflictParams struct {
	// TaskID is the task whose edit it was.
	TaskID string `json:"taskId"`
	// URI is the file's URI.
	URI string `json:"uri"`
	// Message says what happened, naming the file.
	Message string `json:"message"`
}

// AuthChangedParams is the claude/authChanged notification: what
// claude.authStatus says of the key (status, source, fingerprint) changed.
// Sent once the auth manager has started (after its first check), and at
// every change since, whatever caused it: a check of the helper, new auth
// settings (inherit mode included), auth settings refused.
type AuthChangedParams struct {
	// Status is "ok" or "error" (the outcome of the helper's last run),
	// "inherit" in inherit mode.
	Status AuthState `json:"status"`
	// Source is where the key came from ("none" when there is none,
	// "inherit" in inherit mode).
	Source KeySource `json:"source"`
	// Fingerprint is the first 8 hex digits of the key's SHA-256, all of a
	// key that ever leaves the bridge; "" when there is no key.
	Fingerprint string `json:"fingerprint"`
}
