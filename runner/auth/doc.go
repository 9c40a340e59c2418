// Package auth keeps an Anthropic API key flowing to the claude CLI through a
// key-helper script, and tells the user, the task runner and `claude-bridge
// doctor` what state that key is in.
//
// # Why a helper script
//
// The claude CLI (2.1.332) has no API-key flag. It takes the setting
// apiKeyHelper, passed per process with --settings '{"apiKeyHelper":"..."}',
// runs that value as a command line with /bin/sh -c, in the workspace (its
// working directory) and with claude's own environment (measured), and uses
// what it prints as the key. So the helper must be executable, a path with
// spaces must be quoted for sh, and arguments may follow the path. claude
// calls it at start, again after an HTTP 401, and again once
// CLAUDE_CODE_API_KEY_HELPER_TTL_MS has passed; it never notices a change to
// a file by itself. The TTL refresh runs beside the request that found the key
// expired: that request still carries the cached key, the ones after it the
// refreshed one. ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN in its
// environment silently win over the helper.
//
// A helper therefore lets a rotated key reach a long-running claude process
// without a restart, and keeps every key out of claude's argv and
// environment.
//
// # Where a key can be, and where it cannot
//
// A key can be in:
//   - the user's key file (default ~/.claude/api_key), or wherever the
//     user's auth.keyCommand gets it;
//   - the bridge's own environment, when the user started it with
//     CLAUDE_API_KEY or ANTHROPIC_API_KEY, and the bridge's memory;
//   - the bridge's runtime key file (below), mode 0600 in a 0700 directory,
//     while that bridge runs;
//   - the helper's shell variables and the pipe from the tr that reads a key
//     file, for the milliseconds a helper run takes, and the output pipe of
//     the key command;
//   - claude's memory, and the X-Api-Key and Authorization headers of its
//     requests to the API.
//
// A key is never in: claude's environment or that of anything claude starts
// (Bash commands, hooks, MCP servers), which is where the tool results, the
// requests' bodies, claude's transcripts under ~/.claude/projects and the
// editor's claude/event stream would pick it up; any process's argv (the
// apiKeyHelper command line holds paths only); the helper script; any file
// the bridge writes other than the runtime key file; a log line, the audit
// trail, Status, a notification, an error message or a test's output, which
// all show a key's fingerprint (the first 8 hex digits of its SHA-256) and
// scrub helper error text of the helper's output, of the bridge's own keys
// and of anything shaped like an Anthropic key. Launch.Env removes from
// claude's environment CLAUDE_API_KEY, ANTHROPIC_API_KEY,
// ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN and
// CLAUDE_BRIDGE_ANTHROPIC_API_KEY (where bridges before issue 9 put the key),
// and any other variable whose value holds one of the bridge's own keys or is
// the key the helper last yielded (known by its fingerprint).
//
// Processes of the same user can read the key file and the runtime key file,
// as they can read each other's memory: the promise is about what claude and
// the programs it starts are handed, not about isolation between one user's
// processes.
//
// # The private channel for a key from the bridge's environment
//
// Before issue 9 the bridge passed its CLAUDE_API_KEY (or ANTHROPIC_API_KEY,
// as CLAUDE_BRIDGE_ANTHROPIC_API_KEY) in claude's environment for the helper
// to print; an agent running `env` put the key into the tool result, the next
// request, the transcript and the event stream. Ways to reach the helper
// without the environment, weighed:
//   - an inherited file descriptor: claude starts the helper with stdin,
//     stdout and stderr only (measured: a descriptor open in claude was not
//     open in the helper), so nothing reaches it;
//   - a Unix socket of the bridge that the helper asks: sh cannot connect to
//     a socket, so the helper would need a client (nc and socat are not
//     everywhere; the bridge's own binary may move under a running claude),
//     and the socket's path would reach the helper as a file's path does,
//     open to every process of the user as a file is: more moving parts, no
//     less exposure;
//   - a file (chosen): the key in a 0600 file, written atomically, in a
//     per-bridge 0700 directory; its path, never the key, follows the
//     helper's path in the apiKeyHelper command line:
//     "<helper> --env-key-file <file> --env-key-source CLAUDE_API_KEY"
//     (measured: sh -c hands the quoted path to the helper as one argument).
//     No environment variable is involved, so nothing claude starts inherits
//     anything, and the helper script, shared by every bridge of the user,
//     stays free of anything per-bridge. CLAUDE_API_KEY wins over
//     ANTHROPIC_API_KEY; only one file is written.
//
// The runtime directory is $XDG_RUNTIME_DIR/claude-bridge/<pid>-<random>/
// when XDG_RUNTIME_DIR is an absolute 0700 directory of the user's (a tmpfs
// emptied at logout: the key never reaches a disk), else
// <state>/claude-bridge/run/<pid>-<random>/ with <state> $XDG_STATE_HOME or
// ~/.local/state (on disk, 0700). It is made only when the managed helper
// needs it, and removed by Close. A bridge that was killed cannot remove its
// own, so each start removes the directories of bridges that are gone.
// Liveness is an flock the owning bridge holds on <dir>/lock for its whole
// life (the kernel drops it when the process dies, whatever happens to its
// pid, which the system may hand to another process); a directory gets its
// lock under a ".new-" name and only then its final name, so a final name
// without a held lock always means a dead bridge. If the file goes missing
// while claude still runs (its bridge exited), the helper fails with "the
// claude-bridge that started this claude has exited" instead of falling
// through to another source.
//
// Measured (2 cores, dash, 200 runs each): a helper run takes 12.2 ms with
// the runtime key file (2.7 ms before, reading the variable), 11.2 ms with
// the key file (9.0 ms before) and 11.6 ms with a key command (6.6 ms
// before): the checks fork ls, id, wc and tr by absolute path. claude runs it
// at start, after a 401 and once per TTL (240 s by default).
//
// # The generated helper
//
// In the default mode ("helper") the Manager writes a POSIX sh script to
// Config.HelperPath (default ~/.claude/auth_helper.sh, mode 0700, written
// atomically and only when its content changes, so several bridges can share
// it). The script prints one key from the first source that has one:
//
//  1. the runtime key file given with --env-key-file: the bridge's
//     CLAUDE_API_KEY, else its ANTHROPIC_API_KEY;
//  2. the key file (default ~/.claude/api_key), which must be a regular file
//     owned by the user with no group or other permission bits, as ssh
//     insists for private keys; otherwise the helper refuses it with an
//     ssh-style message naming the fix and exits 1 (it does not fall through
//     to the key command, so a misconfigured file is never silently
//     bypassed). An empty key file counts as no key;
//  3. the output of Config.KeyCommand;
//  4. otherwise it exits 1 with "no API key available: ...".
//
// The key file's path, the key command and the home directory are baked into
// the script (claude runs it with claude's environment, not the bridge's
// configuration); a key never is.
//
// The helper runs no program found through the PATH it is given: claude runs
// it in the workspace, where a relative PATH entry (./node_modules/.bin, ".",
// an empty entry) names the repository's own files, and a repository's `cat`
// would receive the key file. It sets PATH=/usr/bin:/bin and runs ls, id, wc,
// tr and timeout by the absolute paths the bridge found for them in
// /usr/bin, /bin or /run/current-system/sw/bin (NixOS) when it wrote the
// script; printf, test and the rest are sh builtins.
//
// The key command is the user's own shell line, run by /bin/sh -c with no
// input, from the user's home directory and with the user's PATH less its
// relative and empty entries. The home directory rather than the workspace:
// the workspace and its tools belong to whoever wrote the repository, the
// home directory to the user, and a relative path in the command (cat
// .secrets/key) then means the same file in every workspace. GNU timeout
// (coreutils) bounds it: after Config.KeyCommandTimeout it sends SIGTERM to
// the command's whole process group and, with -k 1, SIGKILL one second later
// (measured: a key command that ignores SIGTERM, with two children that do
// too, ends the helper run 2.01 s after it started with a 1 s limit, and
// leaves no process; without -k, timeout waited for it forever). A program
// that leaves the process group on purpose (gpg-agent, started by pass,
// calls setsid) is not stopped. Without GNU timeout the command runs without
// a limit, and doctor warns.
//
// What a key file holds, and what the key command prints, is cleaned and
// checked alike: a UTF-8 byte-order mark and surrounding whitespace (a CRLF
// included) are removed; UTF-16 text, with or without a byte-order mark
// (PowerShell's `echo KEY > file` writes UTF-16LE with one), is refused with
// "<path> is UTF-16 text; save it as UTF-8 or ASCII" (the key command's:
// "the output of auth.keyCommand is UTF-16 text; make it print UTF-8 or
// ASCII"); any other NUL byte is refused. What is left must be a single
// printable-ASCII token of at most 16384 characters, else the helper fails
// with a message that never quotes the rejected text.
//
// Which source answered is learned from the helper itself: when the variable
// CLAUDE_BRIDGE_HELPER_REPORT is set (only the bridge's own checks set it,
// never claude) the script writes one line "claude-bridge-source: <source>" to
// stderr, where <source> is one of the Source* constants. A user's own helper
// (ManageHelper false) reports nothing and is recorded as SourceHelper; it
// is run as it is, without the runtime key file: a key in the bridge's
// environment does not reach it.
//
// # Only the bridge's own helper runs
//
// Before every claude process (Launch) and every run of its own (Check, the
// refresh loop, 401s) the bridge checks the helper (helperReady):
//   - the directory holding it, and each one above it up to the home
//     directory (or up to / outside it), must be owned by the user or root
//     and not writable by group or others, as ssh checks ~/.ssh: whoever can
//     write a directory can replace what is in it. A parent with the sticky
//     bit (/tmp) may be world-writable; the helper's own directory may not.
//     doctor fails with the chmod or chown that fixes it;
//   - a managed helper must be exactly the managed content: a regular file,
//     not a symbolic link, owned by the user, mode 0700. Otherwise it is
//     rewritten on the spot; when it cannot be (its directory is not
//     writable, or the restore loop gave up because another program keeps
//     changing it) the launch is refused with the reason. claude is never
//     started with a foreign script in place. The bridge never runs one
//     either: its own runs hand the content it has just verified to sh
//     (sh -c SCRIPT <helper path> ARGS...) rather than the file, which
//     another program could replace between the check and the exec (an
//     end-to-end test that replaced it right after the bridge wrote it caught
//     the bridge's first check running the replacement). claude runs the
//     file itself, at start and at each TTL and 401: between those runs the
//     watcher restores a changed file within its debounce (150 ms);
//   - a user's own helper must exist, be executable and not be writable by
//     group or others.
//
// # Using it
//
// New validates a Config; Start removes stale runtime directories, writes the
// helper, runs the first check and starts an fsnotify watcher and the refresh
// loop; Close stops them and removes the runtime directory. For each claude
// process, Launch returns the extra arguments and an environment filter;
// CheckInit checks the init message's apiKeySource. On401, OnTaskSuccess and
// ForgetTask let the task runner react to authentication failures;
// Fingerprint, Explain, Status and Doctor report state.
package auth
