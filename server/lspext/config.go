package lspext

// Configuration is the bridge's configuration: initializationOptions in
// initialize, or settings.claudeBridge in workspace/didChangeConfiguration.
// Every field is optional; a field left out keeps its current value (its
// default at first), so an update may carry only what changed. Each
// setting is judged on its own: one the bridge refuses (of another type,
// out of range, null) keeps its current value and the editor is told
// which (window/showMessage), while the others apply. Settings the bridge
// does not know are logged and ignored (an editor's settings section may
// hold the editor's own).
type Configuration struct {
	// ClaudePath is the claude executable. Default: claude on PATH.
	ClaudePath *string `json:"claudePath,omitempty"`
	// Model is passed to claude as --model. Default: claude's own.
	Model *string `json:"model,omitempty"`
	// PermissionMode is claude's --permission-mode. Default: acceptEdits.
	PermissionMode *PermissionMode `json:"permissionMode,omitempty"`
	// AllowedTools are passed to claude as --allowedTools, e.g.
	// "Bash(go test:*)". Default: none.
	AllowedTools []string `json:"allowedTools,omitempty"`
	// DisallowedTools are passed to claude as --disallowedTools. Default: none.
	DisallowedTools []string `json:"disallowedTools,omitempty"`
	// MaxConcurrentTasks is how many tasks run at once, at least 1; more wait
	// in a queue. Default: 4.
	MaxConcurrentTasks *int `json:"maxConcurrentTasks,omitempty" jsonschema:"minimum=1"`
	// FollowUpIdleSeconds is how long, in seconds, a finished task's claude
	// process waits for a follow-up before it exits (later follow-ups resume
	// the conversation with --resume); 0 or less: it exits at once. Default: 300.
	FollowUpIdleSeconds *int `json:"followUpIdleSeconds,omitempty"`
	// MaxIdleProcesses is how many claude processes wait at once, finished
	// tasks' ones kept for a follow-up and warm ones (prewarm) together,
	// ranked: the last finished task's first, then warm ones, then the other
	// finished ones, least recently used last. Past it the lowest ranked is
	// stopped, and a warm one takes the place of a lower ranked one; 0 keeps
	// none. Default: maxConcurrentTasks.
	MaxIdleProcesses *int `json:"maxIdleProcesses,omitempty" jsonschema:"minimum=0"`
	// Prewarm keeps a claude started and initialised ahead of need for the
	// workspace folders (at most one per folder, two in all, counted
	// against maxIdleProcesses), so that a task with the configured model,
	// permission mode and tools starts without waiting for claude; false
	// starts none. Default: true.
	Prewarm *bool `json:"prewarm,omitempty"`
	// Review is when the user reviews the agent's changes to files: "off"
	// (default), "beforeWrite" (each edit held for the user's review before
	// it is written) or "afterTurn" (the task's changes checkpointed and
	// listed when it ends, to revert or accept); claude.run and
	// claude.followUp may override it per task.
	Review *ReviewMode `json:"review,omitempty"`
	// LogLevel is the log file's level. Default: info.
	LogLevel *LogLevel `json:"logLevel,omitempty"`
	// Auth is how claude gets its API key (AuthConfiguration). An update
	// that carries it replaces the whole auth configuration; one the
	// bridge refuses leaves it without a key until auth settings it
	// accepts come (tasks fail saying why).
	Auth *AuthConfiguration `json:"auth,omitempty"`
}

// AuthConfiguration is the `auth` object of the configuration (README
// "Authentication"). Every field is optional; empty (or 0) means the
// default. Fields the bridge does not know are logged and ignored.
type AuthConfiguration struct {
	// Mode is "helper" (default: the bridge supplies the key through its key
	// helper script) or "inherit" (no helper, claude's environment untouched).
	Mode AuthMode `json:"mode,omitempty"`
	// HelperPath is where the helper script lives: absolute, or starting
	// with ~/. Default: ~/.claude/auth_helper.sh.
	HelperPath string `json:"helperPath,omitempty"`
	// ManageHelper is true (default) when the bridge writes and restores
	// the helper; false: helperPath is the user's own script, used as it is.
	ManageHelper *bool `json:"manageHelper,omitempty"`
	// KeyFile is the file holding the key (owned by the user, mode 0600 or
	// stricter): absolute, or starting with ~/. Default: ~/.claude/api_key.
	KeyFile string `json:"keyFile,omitempty"`
	// KeyCommand is a shell command that prints the key (a password
	// manager), tried after the key file. Default: none.
	KeyCommand string `json:"keyCommand,omitempty"`
	// KeyCommandTimeoutSeconds bounds the key command, in seconds (fractions
	// allowed), at most 1000000. Default: 8.
	KeyCommandTimeoutSeconds float64 `json:"keyCommandTimeoutSeconds,omitempty" jsonschema:"minimum=0,maximum=1000000"`
	// RefreshIntervalSeconds is how often, in seconds, the bridge checks the
	// helper, and the key lifetime (TTL) claude is given; at least 0.1 (a
	// shorter one refuses the auth settings), at most 1000000. Default: 240.
	RefreshIntervalSeconds float64 `json:"refreshIntervalSeconds,omitempty" jsonschema:"minimum=0,maximum=1000000"`
	// AuditPath is the audit trail (JSON lines, mode 0600): absolute, or
	// starting with ~/. Default: auth-audit.jsonl beside the log file.
	AuditPath string `json:"auditPath,omitempty"`
	// AuditMaxBytes is the size in bytes at which the audit trail is rotated
	// to auditPath.1. Default: 1048576 (1 MiB).
	AuditMaxBytes int64 `json:"auditMaxBytes,omitempty" jsonschema:"minimum=0"`
	// Settings are more claude settings, passed with --settings (apiKeyHelper
	// is ignored in helper mode). Default: none.
	Settings map[string]any `json:"settings,omitempty"`
}

// AcceptsUnknownFields says that the bridge ignores (and logs) the fields
// of the configuration it does not know, rather than refuse them: the
// schema says so (additionalProperties), and the server decodes the
// configuration with DecodeEach.
func (Configuration) AcceptsUnknownFields() bool { return true }

// AcceptsUnknownFields: as Configuration's.
func (AuthConfiguration) AcceptsUnknownFields() bool { return true }
