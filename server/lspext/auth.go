package lspext

// AuthStatus is the reply of claude.authStatus: the auth manager's state,
// as claude-bridge doctor shows it. Without an auth manager (the bridge
// runs without one) it says so in message, with status and mode
// "inherit"; when the auth settings were refused it has status "error",
// source "none" and the reason in lastError.
type AuthStatus struct {
	// Status is the key's state.
	Status AuthState `json:"status"`
	// Mode is the auth mode. Optional: absent when the auth settings were
	// refused and name no mode the bridge knows (auth.mode "bogus").
	Mode AuthMode `json:"mode,omitempty"`
	// HelperPath is the key helper's absolute path. Optional: absent in
	// inherit mode.
	HelperPath string `json:"helperPath,omitempty"`
	// HelperExists is true when the helper file exists.
	HelperExists bool `json:"helperExists"`
	// HelperMode is the helper file's mode in octal ("0700"). Optional:
	// absent when the file does not exist.
	HelperMode string `json:"helperMode,omitempty"`
	// HelperManagedContent is true when the helper file holds exactly what
	// this bridge would write.
	HelperManagedContent bool `json:"helperManagedContent"`
	// Managed is true when the bridge writes and restores the helper
	// (auth.manageHelper).
	Managed bool `json:"managed"`
	// Source is where the last check found the key.
	Source KeySource `json:"source"`
	// KeyFile is the key file as the helper judges it. Optional: absent in
	// inherit mode and without a working auth manager.
	KeyFile *KeyFileStatus `json:"keyFile,omitempty"`
	// KeyCommandConfigured is true when auth.keyCommand is set.
	KeyCommandConfigured bool `json:"keyCommandConfigured"`
	// Fingerprint is the first 8 hex digits of the key's SHA-256. Optional:
	// absent without a key.
	Fingerprint string `json:"fingerprint,omitempty"`
	// RuntimeKeyFile is the bridge's private copy of the key it found in
	// its own environment (CLAUDE_API_KEY or ANTHROPIC_API_KEY), which the
	// helper reads: a 0600 file in a directory only the user can enter,
	// removed when the bridge exits. Optional: absent when the bridge has
	// no such key (or the helper is the user's own).
	RuntimeKeyFile string `json:"runtimeKeyFile,omitempty"`
	// TTLMs is the key lifetime claude is given, in milliseconds
	// (CLAUDE_CODE_API_KEY_HELPER_TTL_MS). Optional: absent in inherit mode.
	TTLMs int64 `json:"ttlMs,omitempty"`
	// LastRefresh is when the helper last ran, RFC 3339. Optional: absent
	// before the first check.
	LastRefresh string `json:"lastRefresh,omitempty"`
	// LastRefreshOK is true when that run yielded a key.
	LastRefreshOK bool `json:"lastRefreshOk"`
	// LastRefreshMs is how long that run took, in milliseconds. Optional.
	LastRefreshMs int64 `json:"lastRefreshMs,omitempty"`
	// LastError is why the last run failed, or why the auth manager did not
	// start. Optional.
	LastError string `json:"lastError,omitempty"`
	// Problems lists what is wrong besides the last check: the helper cannot
	// be written, another program keeps rewriting it, settings the bridge
	// overrides. Optional.
	Problems []string `json:"problems,omitempty"`
	// Message explains the status in a sentence when the bridge runs without
	// an auth manager (inherit). Optional.
	Message string `json:"message,omitempty"`
	// Claude is where the bridge finds the claude CLI with its current
	// settings. Optional: absent from a bridge older than the field.
	Claude *ClaudeCLI `json:"claude,omitempty"`
}

// ClaudeCLI is where the bridge finds the claude CLI: the claudePath
// setting, else $CLAUDE_BRIDGE_CLAUDE, else PATH, else the folders the
// installers use (README, Configuration: claudePath).
type ClaudeCLI struct {
	// Path is the claude executable. Optional: absent when it was not found.
	Path string `json:"path,omitempty"`
	// FoundIn says how it was found, for a person: "claudePath",
	// "$CLAUDE_BRIDGE_CLAUDE", "PATH", or the folder searched when claude is
	// not on the bridge's PATH ("~/.local/bin, not on PATH"). Optional:
	// absent when it was not found.
	FoundIn string `json:"foundIn,omitempty"`
	// Version is what `claude --version` printed ("2.1.332 (Claude Code)").
	// Optional: absent when claude was not found or does not run.
	Version string `json:"version,omitempty"`
	// Problem says why claude cannot be used, leading with what is wrong
	// and the fix: not found ("claude CLI not found: install it with …
	// (looked in: …)"), found but not executable ("claude CLI at
	// ~/.local/bin/claude is not executable: run `chmod +x …`"), or found
	// and failing ("claude CLI at … does not run (`… --version` exited with
	// code 3: <its stderr's first lines>): reinstall it …"). Optional:
	// absent when claude runs. Path is set with it when claude was found.
	Problem string `json:"problem,omitempty"`
}

// KeyFileStatus is the key file as the key helper judges it.
type KeyFileStatus struct {
	// Path is the key file's absolute path.
	Path string `json:"path"`
	// Exists is true when the file exists.
	Exists bool `json:"exists"`
	// OwnerUID is the file owner's uid. Optional: absent when the file does
	// not exist (or is root's).
	OwnerUID int `json:"ownerUid,omitempty"`
	// Owner is the owner's user name, when it resolves. Optional.
	Owner string `json:"owner,omitempty"`
	// Mode is the file's mode in octal ("0600"). Optional.
	Mode string `json:"mode,omitempty"`
	// OK is true when the file exists and the helper would accept its owner
	// and mode (its content is judged by running the helper).
	OK bool `json:"ok"`
	// Problem is the helper's own words for what is wrong, with the fix.
	// Optional.
	Problem string `json:"problem,omitempty"`
}
