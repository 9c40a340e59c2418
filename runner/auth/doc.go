// Package auth keeps an Anthropic API key flowing to the claude CLI through a
// key-helper script, and tells the user, the task runner and `claude-bridge
// doctor` what state that key is in.
//
// # Why a helper script
//
// The claude CLI (2.1.332) has no API-key flag. It takes the setting
// apiKeyHelper, passed per process with --settings (a JSON string or the
// path of a JSON file), runs that value as a command line with /bin/sh -c,
// in the workspace (its working directory) and with claude's own
// environment (measured), and uses what it prints as the key. So the helper
// must be executable, a path with spaces must be quoted for sh, and
// arguments may follow the path. claude calls it at start, again after an
// HTTP 401, and again once CLAUDE_CODE_API_KEY_HELPER_TTL_MS has passed; it
// never notices a change to a file by itself. The TTL refresh runs beside
// the request that found the key expired: that request still carries the
// cached key, the ones after it the refreshed one. ANTHROPIC_API_KEY and
// ANTHROPIC_AUTH_TOKEN in its environment silently win over the helper.
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
//     CLAUDE_API_KEY or ANTHROPIC_API_KEY, and the bridge's memory (which
//     also holds the key the helper last yielded, so that Launch.Env can
//     remove any variable holding it);
//   - the bridge's runtime key file (below), mode 0600 in a 0700 directory,
//     while that bridge runs;
//   - the helper's shell variables and the pipe from the tr that reads a key
//     file, for the milliseconds a helper run takes, and the file holding
//     the key command's output, removed from the runtime directory before
//     the command runs (read through a descriptor; no name ever leads to
//     it);
//   - claude's memory, and the X-Api-Key and Authorization headers of its
//     requests to the API.
//
// A key is never in: claude's environment or that of anything claude starts
// (Bash commands, hooks, MCP servers), which is where the tool results, the
// requests' bodies, claude's transcripts under ~/.claude/projects and the
// editor's claude/event stream would pick it up; any process's argv
// (claude's holds the path of a settings file, the apiKeyHelper command
// line in it paths only); the helper script, its configuration or claude's
// settings file; any file the bridge writes other than the runtime key
// file; a log line, the audit trail, Status, a notification, an error
// message or a test's output, which all show a key's fingerprint (the first
// 8 hex digits of its SHA-256) and scrub helper error text of the helper's
// output, of the bridge's own keys and of anything shaped like an Anthropic
// key. Launch.Env removes from claude's environment CLAUDE_API_KEY,
// ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN and
// CLAUDE_BRIDGE_ANTHROPIC_API_KEY (where bridges before issue 9 put the
// key), and any other variable whose value holds, anywhere in it, one of
// the bridge's own keys or the key the helper last yielded
// (ANTHROPIC_CUSTOM_HEADERS="x-api-key: <key>", "Bearer <key>"). A key in
// auth.settings.env, which claude would put into its own environment, is
// refused by New and Reconfigure.
//
// Processes of the same user can read the key file and the runtime key file,
// as they can read each other's memory: the promise is about what claude and
// the programs it starts are handed, not about isolation between one user's
// processes. A repository's .claude/settings.json can run commands of its
// own through claude (hooks, MCP servers) and set variables such as
// LD_PRELOAD for everything claude starts; those run as the user and can
// read the user's files. The bridge keeps the repository from redirecting
// claude's requests (below), not from running code: open untrusted
// repositories only in a sandbox.
//
// # What a repository cannot choose
//
// claude run with -p applies the "env" block of the workspace's
// .claude/settings.json and .claude/settings.local.json without asking.
// Measured with claude 2.1.332: ANTHROPIC_BASE_URL there sent the key to
// the repository's server; so did the proxy variables, a provider switch
// (CLAUDE_CODE_USE_BEDROCK and the rest) with its base URL, and
// NODE_TLS_REJECT_UNAUTHORIZED=0 or NODE_EXTRA_CA_CERTS with a server
// nobody trusts; ANTHROPIC_CUSTOM_HEADERS, ANTHROPIC_API_KEY and
// ANTHROPIC_AUTH_TOKEN replaced the helper's key (see pins.go for the whole
// list, and what was measured to have no effect). The "env" block of the
// bridge's --settings ranks above those files (measured), so every launch
// pins each of these variables to the user's own value: that of the user's
// claude settings (~/.claude/settings.json, or $CLAUDE_CONFIG_DIR's), which
// claude ranks above the environment, else the bridge's environment as
// claude gets it, else "" (which claude treats as unset; measured) or, for
// ANTHROPIC_BASE_URL, its default https://api.anthropic.com. In helper mode
// the credential variables are pinned to "". The user's own
// auth.settings.env comes last and wins. A value holding a key is never
// written: that variable stays unpinned. When a workspace's settings set a
// pinned variable to another value, the user is told once
// (Notifier.ShowMessage), by file and variable names, never values.
//
// Bash turns a variable BASH_FUNC_name%% into a shell function name in
// every bash that inherits it; claude hands a project's env entries to all
// it starts (measured), so on a system whose /bin/sh is bash the helper's
// printf would have been the project's function, called with the key. The
// helper defends itself (below), and every BASH_FUNC_ variable a
// workspace's settings define is pinned to "" for its launches, so that no
// bash below claude (the user's key command included) defines it.
//
// # The per-bridge channel: a private runtime directory
//
// Everything that differs between two bridges reaches the shared helper
// through files in the bridge's own runtime directory, whose paths (never a
// key) are in the apiKeyHelper command line "<helper> --config <file>"
// (measured: sh -c hands a quoted path to the helper as one argument):
//   - helper.conf, the helper's configuration: "name=value" lines (key file,
//     home directory, the key command's time limit, the runtime key file and
//     the variable it came from) and, last, the key command, which may span
//     lines. The helper reads it as data, line by line, and never runs or
//     sources it; it refuses one that is not the user's with no group or
//     other permission bits, as it refuses a key file;
//   - key, the bridge's CLAUDE_API_KEY (else its ANTHROPIC_API_KEY), when
//     it has one;
//   - settings-<hash>.json, claude's --settings: the user's auth.settings,
//     the pinned "env" block and apiKeyHelper. One file per distinct
//     content, so a claude that is running keeps the file it was started
//     with. It may hold a value of the user's environment such as a proxy
//     URL with a password: it is as private as the key file.
//
// So the helper script is the same bytes for every bridge of one helper
// version, whatever its configuration: two bridges with different auth
// settings share ~/.claude/auth_helper.sh without rewriting it, and each
// one's claude gets that bridge's key. Before, the configuration was baked
// into the script; measured: in 3 of 4 runs one bridge's claude ran the
// other's script and sent the other's key, then the bridges fought over the
// file until they gave up restoring it.
//
// Ways to reach the helper without the environment, weighed: an inherited
// file descriptor (claude starts the helper with stdin, stdout and stderr
// only; measured: a descriptor open in claude was not open in the helper);
// a Unix socket of the bridge (sh cannot connect to one without a client,
// and the socket's path would reach the helper as a file's path does, open
// to every process of the user as a file is: more moving parts, no less
// exposure); files (chosen). No environment variable is involved, so
// nothing claude starts inherits anything.
//
// The runtime directory is $XDG_RUNTIME_DIR/claude-bridge/<pid>-<random>/
// when XDG_RUNTIME_DIR names (directly or through a symbolic link) an
// absolute 0700 directory of the user's (on systemd systems /run/user/<uid>,
// a tmpfs emptied at logout; the bridge does not check the file system),
// else <state>/claude-bridge/run/<pid>-<random>/ with <state>
// $XDG_STATE_HOME or ~/.local/state (on disk, 0700). It is made by the
// first launch or helper run, and removed by Close, and by
// RemoveRuntimeDirs, which the binary calls on a signal it is about to die
// of (SIGQUIT and the like). A bridge that was killed cannot remove its own,
// so each start, and doctor, removes the directories of bridges that are
// gone from every place a bridge may have put them: the XDG one (without
// XDG_RUNTIME_DIR, /run/user/<uid>) and the state one. Liveness is an flock
// the owning bridge holds on <dir>/lock for its whole life (the kernel
// drops it when the process dies, whatever happens to its pid, which the
// system may hand to another process); a directory gets its lock under a
// ".new-" name and only then its final name, so a final name without a held
// lock always means a dead bridge. If the configuration or the key file goes
// missing while claude still runs (its bridge exited), the helper fails with
// "the claude-bridge that started this claude has exited" instead of
// falling through to another source.
//
// # The generated helper
//
// In the default mode ("helper") the Manager writes a POSIX sh script to
// Config.HelperPath (default ~/.claude/auth_helper.sh, mode 0700, written
// atomically and only when its content changes). Run with --config, the
// script prints one key from the first source that has one:
//
//  1. the runtime key file the configuration names: the bridge's
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
// Without --config, or with arguments it does not know (those of another
// helper version), it fails without printing a key.
//
// The helper runs no program found through the PATH it is given: claude runs
// it in the workspace, where a relative PATH entry (./node_modules/.bin, ".",
// an empty entry) names the repository's own files, and a repository's `cat`
// would receive the key file. It sets PATH=/usr/bin:/bin and runs ls, id,
// wc, tr and timeout by absolute path, looking for each in /usr/bin, /bin
// and /run/current-system/sw/bin (NixOS) each time it runs; printf, test,
// read and the rest are sh builtins. No shell function from the environment
// stands in for one of them: its first commands are `set +x +v +e +u -f`
// (bash would take xtrace, which prints every command, the key's printf
// included, from SHELLOPTS) and `unset -f` of every builtin it uses. set
// and unset are special builtins, which no function can shadow in bash's
// POSIX mode, the mode bash runs in as /bin/sh (measured with exec -a sh
// bash: a BASH_FUNC_printf%% function did not run, nor one named unset,
// set or exec). A shell flag was the other way, but busybox ash (Alpine's
// /bin/sh) refuses -p.
//
// The key command is the user's own shell line, run by /bin/sh -c with no
// input, from the user's home directory and with the user's PATH less its
// relative and empty entries. The home directory rather than the workspace:
// the workspace and its tools belong to whoever wrote the repository, the
// home directory to the user, and a relative path in the command (cat
// .secrets/key) then means the same file in every workspace. GNU timeout
// (coreutils) bounds it and gives it a process group of its own: after
// Config.KeyCommandTimeout it sends SIGTERM to that group and, with -k 1,
// SIGKILL one second later (measured: a key command that ignores SIGTERM,
// with two children that do too, ends the helper run 2.01 s after it
// started with a 1 s limit, and leaves no process; without -k, timeout
// waited for it forever). The key is what the command printed by the time
// it exited: its output and error output go to two files in the runtime
// directory, removed before the command runs and read through descriptors
// once it has exited, so the helper waits for the command, never for the
// end of a pipe that something it left holds open. The helper then kills
// the group whatever is left in it ("sleep 40 & cat keysrc"). A process that
// left the group (setsid sleep 40 & cat keysrc; gpg-agent, started by pass,
// calls setsid) carries the tag of whoever ran the helper (runner/proctree):
// the claude that ran it kills it with what its turn left behind, and
// runHelper, the bridge's own run, kills it right after the run (measured
// before: the helper, claude's or doctor's, waited for that child, 40 s, far
// past the limit, and left it running). Without GNU timeout the command
// runs without a limit and nothing is killed by the helper, and doctor
// warns.
//
// What a key file holds, and what the key command prints, is cleaned and
// checked alike: a UTF-8 byte-order mark and surrounding whitespace (a CRLF
// included) are removed; UTF-16 text, with or without a byte-order mark
// (PowerShell's `echo KEY > file` writes UTF-16LE with one), is refused with
// "<path> is UTF-16 text; save it as UTF-8 or ASCII" (the key command's:
// "the output of auth.keyCommand is UTF-16 text; make it print UTF-8 or
// ASCII"); UTF-32 likewise, named as such ("is UTF-32 text"); any other NUL
// byte is refused. A shell assignment (ANTHROPIC_API_KEY=sk-…, with or
// without export: a line copied from a .env file) is refused naming the
// variable, never the value ("<path> holds a shell assignment
// (ANTHROPIC_API_KEY=...), not just the key; leave only the key itself
// (sk-ant-...) in it"): no API key holds "=". What is left must be a single
// printable-ASCII token of at most 16384 characters, else the helper fails
// with a message that never quotes the rejected text.
//
// Which source answered is learned from the helper itself: when the variable
// CLAUDE_BRIDGE_HELPER_REPORT is set (only the bridge's own checks set it,
// never claude) the script writes one line "claude-bridge-source: <source>" to
// stderr, where <source> is one of the Source* constants. A user's own helper
// (ManageHelper false) reports nothing and is recorded as SourceHelper; it
// is run as it is, without a configuration: a key in the bridge's
// environment does not reach it.
//
// Measured (2 busy cores, load 7-8, dash, 200 runs each): a helper run
// costs 9.3 ms of CPU with the key file, 9.9 ms with the runtime key file
// and 10.8 ms with a key command, against 6.0-7.1 ms for helper version 2
// (which had no configuration to check: ls and wc fork once more); wall
// time on that machine went from 8 to 34 ms a run with its load. claude
// runs it at start, after a 401 and once per TTL (240 s by default).
//
// # Only the bridge's own helper runs
//
// Before every claude process (Launch) and every run of its own (Check, the
// refresh loop, 401s) the bridge checks the helper (helperReady):
//   - the directory holding the path claude runs, and that of each target of
//     a symbolic link on the way to the file (~/.claude/auth_helper.sh ->
//     ../dotfiles/helper.sh), and each directory above them up to the home
//     directory (or up to / outside it), both as written and with links
//     resolved, must be owned by the user or root and not writable by group
//     or others, as ssh checks ~/.ssh: whoever can write a directory can
//     replace what is in it. A parent with the sticky bit (/tmp) may be
//     world-writable; a directory holding the helper or one of its links
//     may not. doctor fails with the chmod or chown that fixes it;
//   - a managed helper must be exactly the managed content: a regular file,
//     not a symbolic link, owned by the user, mode 0700. Otherwise it is
//     rewritten on the spot; when it cannot be (its directory is not
//     writable, or the restore loop gave up) the launch is refused with the
//     reason. claude is never started with a foreign script in place. The
//     bridge never runs one either: its own runs hand the content it has
//     just verified to sh (sh -c SCRIPT <helper path> --config <file>)
//     rather than the file, which another program could replace between
//     the check and the exec. claude runs the file itself, at start and at
//     each TTL and 401: between those runs the watcher restores a changed
//     file within its debounce (150 ms);
//   - a user's own helper must exist, be executable and not be writable by
//     group or others.
//
// The restore loop gives up after 10 restores in 30 s: bridges of one
// helper version never rewrite each other's helper, so what keeps changing
// it is another program or a claude-bridge of another helper version, and
// the message says which ("keeps being replaced by the key helper of
// another claude-bridge version (helper version 2; this bridge's is version
// 3)"). A claude started by one version that runs the other version's
// helper gets no key (the arguments differ, and each version refuses the
// other's), never the other bridge's key. A claude already running when the
// bridge gives up runs whatever another program put at the path at its next
// key refresh (the bridge does not own running claudes here), and the
// message says so: whatever can write that directory is the user's own.
//
// # Using it
//
// New validates a Config; Start removes stale runtime directories, writes the
// helper, runs the first check and starts an fsnotify watcher (on the
// helper's directory, the key file's, and that of every link target on the
// way to the key file, so a rotated link target is noticed at once) and the
// refresh loop; Close stops them and removes the runtime directory. For
// each claude process, Launch(workspace) returns the --settings arguments
// and an environment filter; ClaudeEnv applies that filter for the bridge's
// own runs of claude (doctor's claude --version); CheckInit checks the init
// message's apiKeySource. On401, OnTaskSuccess and ForgetTask let the task
// runner react to authentication failures; Fingerprint, Explain, Status and
// Doctor report state.
package auth
