// Package auth keeps an Anthropic API key flowing to the claude CLI through a
// key-helper script, and tells the user, the task runner and `claude-bridge
// doctor` what state that key is in.
//
// # Why a helper script
//
// The claude CLI (2.1.332) has no API-key flag. It takes the setting
// apiKeyHelper, passed per process with --settings '{"apiKeyHelper":"<path>"}',
// runs that value as a command line with /bin/sh -c (so the helper must be
// executable, and a path with spaces must be quoted for sh), and uses what it
// prints as the key. It calls the helper at start, again after an HTTP 401,
// and again once CLAUDE_CODE_API_KEY_HELPER_TTL_MS has passed; it never
// notices a change to a file by itself. The TTL refresh runs beside the
// request that found the key expired: that request still carries the cached
// key, the ones after it the refreshed one. ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN in its environment
// silently win over the helper, so a bridge that manages the key must remove
// them from the child's environment.
//
// A helper therefore lets a rotated key reach a long-running claude process
// without a restart, keeps every key out of argv and out of every file the
// bridge writes, and keeps a key from the key file or key command out of
// claude's environment too (a key the bridge got from its own environment is
// passed on in claude's, under the names below, for the helper to print).
//
// # The generated helper
//
// In the default mode ("helper") the Manager writes a POSIX sh script to
// Config.HelperPath (default ~/.claude/auth_helper.sh, mode 0700, written
// atomically and only when its content changes, so several bridges can share
// it). The script prints one key from the first source that has one:
//
//  1. $CLAUDE_API_KEY;
//  2. $CLAUDE_BRIDGE_ANTHROPIC_API_KEY: the bridge's own ANTHROPIC_API_KEY,
//     passed under another name because ANTHROPIC_API_KEY itself must not
//     reach claude;
//  3. the key file (default ~/.claude/api_key), which must be a regular file
//     owned by the user with no group or other permission bits, as ssh
//     insists for private keys; otherwise the helper refuses it with an
//     ssh-style message naming the fix and exits 1 (it does not fall through
//     to the key command, so a misconfigured file is never silently
//     bypassed). An empty key file counts as no key;
//  4. the output of Config.KeyCommand, under `timeout` when that exists;
//  5. otherwise it exits 1 with "no API key available: ...".
//
// The file's path and the key command are baked into the script (claude runs
// it with claude's environment, not the bridge's configuration); a key never
// is. Output is trimmed of trailing whitespace and must be a single
// printable-ASCII token of at most 16384 characters, else the helper fails with
// a message that never quotes the rejected text.
//
// Which source answered is learned from the helper itself: when the variable
// CLAUDE_BRIDGE_HELPER_REPORT is set (only the bridge's own checks set it,
// never claude) the script writes one line "claude-bridge-source: <source>" to
// stderr, where <source> is one of the Source* constants. A user's own helper
// (ManageHelper false) reports nothing and is recorded as SourceHelper.
//
// # Secrets
//
// A key is identified everywhere by its fingerprint, the first 8 hex digits of
// its SHA-256. Logs, the audit trail, errors, Status and notifications carry
// only that; error text taken from a helper's stderr is additionally scrubbed
// of the helper's own output and of anything shaped like an Anthropic key.
//
// # Using it
//
// New validates a Config; Start writes the helper, runs the first check and
// starts an fsnotify watcher and the refresh loop; Close stops them. For each
// claude process, Launch returns the extra arguments and an environment
// filter; CheckInit checks the init message's apiKeySource. On401,
// OnTaskSuccess and ForgetTask let the task runner react to authentication
// failures; Fingerprint, Explain, Status and Doctor report state.
package auth
