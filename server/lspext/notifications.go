package lspext

// EditConflictParams is the claude/editConflict notification: an agent edit
// overlapped unsaved changes in an open buffer, and the buffer was left
// untouched (a window/showMessage names the file too, and the task gets a
// status event).
type EditConflictParams struct {
	// TaskID is the task whose edit it was.
	TaskID string `json:"taskId"`
	// URI is the file's URI.
	URI string `json:"uri"`
	// Message says what happened, naming the file.
	Message string `json:"message"`
}

// AuthChangedParams is the claude/authChanged notification: the key's
// state, source or fingerprint changed (sent after each change the bridge
// notices, and once after its first check).
type AuthChangedParams struct {
	// Status is "ok" or "error" (the outcome of the helper's last run).
	Status AuthState `json:"status"`
	// Source is where the key came from ("none" when there is none).
	Source KeySource `json:"source"`
	// Fingerprint is the first 8 hex digits of the key's SHA-256, all of a
	// key that ever leaves the bridge; "" when there is no key.
	Fingerprint string `json:"fingerprint"`
}
