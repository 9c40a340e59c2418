package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Sources the managed helper reports, and the values of Status.Source.
const (
	SourceEnvClaudeAPIKey    = "CLAUDE_API_KEY"    // the bridge's CLAUDE_API_KEY, through its runtime key file
	SourceEnvAnthropicAPIKey = "ANTHROPIC_API_KEY" // the bridge's ANTHROPIC_API_KEY, through its runtime key file
	SourceKeyFile            = "keyFile"           // Config.KeyFile
	SourceKeyCommand         = "keyCommand"        // Config.KeyCommand
	SourceHelper             = "helper"            // a user's own helper, which does not say
	SourceNone               = "none"              // no key: the helper failed
	SourceInherit            = "inherit"           // inherit mode: not the bridge's business
)

// Environment variables the bridge reads, or removes from claude's
// environment.
const (
	envClaudeAPIKey    = "CLAUDE_API_KEY"
	envAnthropicAPIKey = "ANTHROPIC_API_KEY"
	envAnthropicToken  = "ANTHROPIC_AUTH_TOKEN"
	envOAuthToken      = "CLAUDE_CODE_OAUTH_TOKEN"
	// envBridgeAnthropic is where bridges before issue 9 put their
	// ANTHROPIC_API_KEY for the helper; still removed, so that a claude
	// started from such a bridge's task never passes it on.
	envBridgeAnthropic = "CLAUDE_BRIDGE_ANTHROPIC_API_KEY"
	envTTL             = "CLAUDE_CODE_API_KEY_HELPER_TTL_MS"
	// envReport asks the managed helper to name its source on stderr. Only
	// the bridge's own checks set it, so claude sees a helper that prints
	// nothing but the key.
	envReport = "CLAUDE_BRIDGE_HELPER_REPORT"
	// sourcePrefix starts the stderr line that names the source.
	sourcePrefix = "claude-bridge-source: "
)

// keyVariables are the variables that carry a credential claude would use:
// none of them reaches claude in helper mode (see launchEnv), and none may be
// set through auth.settings.env.
var keyVariables = []string{envClaudeAPIKey, envAnthropicAPIKey, envAnthropicToken, envOAuthToken, envBridgeAnthropic}

// argConfig is the managed helper's one argument: the path of the bridge's
// helper configuration (helperConfig). claude runs the apiKeyHelper setting
// with /bin/sh -c, so it follows the helper's path in that setting.
const argConfig = "--config"

// maxKeyLen is the longest helper output claude accepts.
const maxKeyLen = 16384

// helperVersion changes whenever the script changes. Every bridge with the
// same helper version writes the same bytes (the script depends on nothing
// else), so bridges of one version share the helper without rewriting it;
// two versions cannot share one helper path, and the bridge says so
// (foreignHelperVersion).
const helperVersion = 4

// configVersion is the first line of the helper configuration, which the
// script checks: a configuration it does not understand is an error, not a
// guess.
const configHeader = "claude-bridge helper config 1"

// helperPATH is the helper's own PATH: fixed system directories, whatever
// PATH claude runs it with.
const helperPATH = "/usr/bin:/bin"

// systemToolDirs are where the helper looks for its tools (ls, id, wc, tr,
// timeout), in this order, each time it runs. The last is NixOS's. Nothing
// the helper runs is looked up through the PATH it is given.
var systemToolDirs = []string{"/usr/bin", "/bin", "/run/current-system/sw/bin"}

// helperTools are the absolute paths of the system tools the helper will
// find (the script looks for them itself; the bridge looks too, for doctor).
type helperTools struct {
	ls, id, wc, tr string
	// timeout is GNU timeout (coreutils), "" when there is none: the key
	// command then runs without a time limit, and doctor says so.
	timeout string
	// missing names required tools found in none of systemToolDirs.
	missing []string
}

// systemTools finds the helper's tools in systemToolDirs, the way the
// script does.
var systemTools = sync.OnceValue(func() helperTools {
	var t helperTools
	find := func(name string, required bool) string {
		for _, d := range systemToolDirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		if required {
			t.missing = append(t.missing, name)
		}
		return ""
	}
	t.ls, t.id, t.wc, t.tr = find("ls", true), find("id", true), find("wc", true), find("tr", true)
	t.timeout = find("timeout", false)
	return t
})

// helperScript is the managed helper: the same bytes for every bridge of
// this helper version, whatever its configuration, which reaches the script
// through the file given with --config (helperConfig). It contains no key,
// no path of the user's and no command. See the package documentation for
// what it does.
func helperScript() []byte { return []byte(managedScript) }

// managedScript is the text of helperScript.
var managedScript = strings.NewReplacer(
	"@VERSION@", strconv.Itoa(helperVersion),
	"@PATH@", helperPATH,
	"@TOOLDIRS@", strings.Join(systemToolDirs, " "),
	"@TOOLDIRS_SHOWN@", strings.Join(systemToolDirs, ", "),
	"@CONFIG_HEADER@", configHeader,
	"@MAX_KEY@", strconv.Itoa(maxKeyLen),
	"@SOURCE_PREFIX@", sourcePrefix,
	"@REPORT@", envReport,
).Replace(`#!/bin/sh
# Claude API key helper, generated by claude-bridge (helper version @VERSION@).
#
# Every claude-bridge with helper version @VERSION@ writes exactly this file:
# nothing in it depends on a bridge's configuration, so bridges with
# different auth settings share it. What one bridge is configured with (its
# key file, its key command and that command's time limit, the file holding
# a key from its own environment) comes in a file of that bridge's private
# runtime directory, named with --config, which is read as data and never
# run. The bridge rewrites this file whenever it differs and starts no claude
# while it differs: change the bridge's auth settings instead, or set
# auth.manageHelper to false and point auth.helperPath at a script of your
# own.
#
# claude runs "<this file> --config <file>" (through /bin/sh -c, in the
# workspace) and uses what it prints on stdout as the API key. It prints one
# key and nothing else, from the first source that has one:
#   1. the CLAUDE_API_KEY or ANTHROPIC_API_KEY of the claude-bridge that
#      started this claude, kept in a 0600 file of that bridge's runtime
#      directory, so that no key is ever in claude's environment;
#   2. the key file (owned by you, no group or other permissions);
#   3. the output of the key command, if one is configured.
# This file never contains a key, and no key is ever in an argument or an
# environment variable of any program (printf is a shell builtin). Only
# system tools run here, by absolute path, never a program found through the
# PATH claude passes, which may name the workspace's own tools
# (./node_modules/.bin, "."); and no shell function from the environment
# stands in for a builtin.

# xtrace or verbose mode (bash takes them from SHELLOPTS) would print the
# key: off, first. set and unset are special builtins, which no function can
# shadow in bash's POSIX mode (bash as /bin/sh, where a variable such as
# BASH_FUNC_printf%% defines a function); unset -f then removes any function
# named like a builtin used below.
set +x +v +e +u -f
unset -f printf read cd kill wait test '[' echo true false command pwd umask getopts type 2>/dev/null
unset CDPATH ENV BASH_ENV 2>/dev/null
LC_ALL=C
export LC_ALL
IFS=' 	
'
user_path=${PATH-}
PATH=@PATH@
export PATH
max_key=@MAX_KEY@

fail() {
	printf '%s\n' "$*" >&2
	exit 1
}

nl='
'
nul=$(printf '\001') # tr turns each NUL byte into this: sh drops NULs
bom_utf8=$(printf '\357\273\277')
bom_utf32le=$(printf '\377\376\001\001') # after tr: its NULs are \001
bom_utf32be=$(printf '\001\001\376\377')
bom_utf16le=$(printf '\377\376')
bom_utf16be=$(printf '\376\377')

# system_tool NAME: set t to the absolute path of NAME in a system
# directory, or to "" when there is none.
system_tool() {
	t=
	for d in @TOOLDIRS@; do
		if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then
			t=$d/$1
			return 0
		fi
	done
}
system_tool ls
ls_cmd=$t
system_tool id
id_cmd=$t
system_tool wc
wc_cmd=$t
system_tool tr
tr_cmd=$t
system_tool rm
rm_cmd=$t
system_tool timeout
timeout_cmd=$t # GNU timeout; without it the key command has no time limit
if [ -z "$ls_cmd" ] || [ -z "$id_cmd" ] || [ -z "$wc_cmd" ] || [ -z "$tr_cmd" ]; then
	fail "the key helper needs ls, id, wc and tr in @TOOLDIRS_SHOWN@; install coreutils"
fi

# clean WHAT FIX TEXT: set k to TEXT without a UTF-8 byte-order mark and
# without surrounding whitespace (a CRLF included); fail on UTF-32 and
# UTF-16, with or without a byte-order mark (ASCII in UTF-32 has three NULs
# beside each character, in UTF-16 a NUL in its first two bytes), on any
# other NUL byte, and on a shell assignment (ANTHROPIC_API_KEY=sk-...,
# export included): an API key never holds "=".
clean() {
	k=$3
	case $k in
	"$bom_utf32le"* | "$bom_utf32be"* | ?"$nul$nul$nul"* | "$nul$nul$nul"?*)
		fail "$1 is UTF-32 text; $2"
		;;
	"$bom_utf16le"* | "$bom_utf16be"* | "$nul"* | ?"$nul"*)
		fail "$1 is UTF-16 text; $2"
		;;
	*"$nul"*)
		fail "$1 contains NUL bytes, which no API key has"
		;;
	esac
	k=${k#"$bom_utf8"}
	k=${k#"${k%%[![:space:]]*}"}
	k=${k%"${k##*[![:space:]]}"}
	case $k in
	*=*)
		cl_name=${k%%=*}
		case $cl_name in
		export[[:space:]]*) cl_name=${cl_name#export} && cl_name=${cl_name#"${cl_name%%[![:space:]]*}"} ;;
		esac
		case $cl_name in
		'' | [0-9]* | *[!A-Za-z0-9_]*) ;; # not a variable name: emit judges it
		*) fail "$1 holds a shell assignment ($cl_name=...), not just the key; leave only the key itself (sk-ant-...) in it" ;;
		esac
		;;
	esac
}

# emit SOURCE WHAT: print k as the key if it is one token of printable
# ASCII; otherwise fail, without ever quoting it (it may be a key with a
# typo).
emit() {
	if [ -z "$k" ]; then
		fail "$2 is empty"
	fi
	if [ "${#k}" -gt "$max_key" ]; then
		fail "$2 is too long to be an API key (${#k} characters; at most $max_key)"
	fi
	case $k in
	*[![:graph:]]*)
		fail "$2 is not one API key: it contains spaces, line breaks or characters that are not printable ASCII"
		;;
	esac
	if [ -n "${@REPORT@-}" ]; then
		printf '@SOURCE_PREFIX@%s\n' "$1" >&2
	fi
	printf '%s\n' "$k"
	exit 0
}

# mode_of LS_PERMISSIONS: the octal mode, e.g. -rw-r--r-- gives 0644.
mode_of() {
	p=${1#?}
	m=0
	i=0
	while [ "$i" -lt 9 ]; do
		c=${p%"${p#?}"}
		p=${p#?}
		case $c in
		r | w | x) m=$((m | (1 << (8 - i)))) ;;
		s) m=$((m | (1 << (8 - i)) | (i == 2 ? 2048 : 1024))) ;;
		S) m=$((m | (i == 2 ? 2048 : 1024))) ;;
		t) m=$((m | 1 | 512)) ;;
		T) m=$((m | 512)) ;;
		esac
		i=$((i + 1))
	done
	printf '%04o' "$m"
}

cp_me=
# check_private FILE SHOWN WORD: fail unless FILE (a regular file) is owned
# by you and has no group or other permission bits, as ssh insists for a
# private key, and is small enough to hold one key.
check_private() {
	# ls -n is the portable way to read owner and mode (stat differs
	# between GNU and BSD); -L looks through a symbolic link at the file.
	set -- "$1" "$2" "$3" $("$ls_cmd" -lnLd -- "$1" 2>/dev/null)
	if [ "$#" -lt 6 ]; then
		fail "cannot inspect $2 (ls -ln failed)"
	fi
	if [ -z "$cp_me" ]; then
		cp_me=$("$id_cmd" -u) # once per run
	fi
	if [ "$6" != "$cp_me" ]; then
		fail "$2 is owned by uid $6, not by you (uid $cp_me); run chown $cp_me $3"
	fi
	case $4 in
	????[!-]* | ?????[!-]* | ??????[!-]* | ???????[!-]* | ????????[!-]* | ?????????[!-]*)
		fail "$2 has mode $(mode_of "$4"); run chmod 600 $3"
		;;
	esac
	cp_size=$("$wc_cmd" -c <"$1") || fail "cannot read $2"
	if [ "$cp_size" -gt $((max_key + 1024)) ]; then
		fail "$2 is too large ($cp_size bytes) to hold one API key"
	fi
}

# read_private FILE SHOWN WORD: check_private, then set k to the file's
# content, NUL bytes kept as \001.
read_private() {
	check_private "$1" "$2" "$3"
	k=$("$tr_cmd" '\000' '\001' <"$1") || fail "cannot read $2"
}

config=
while [ "$#" -gt 0 ]; do
	case $1 in
	--config)
		if [ "$#" -lt 2 ]; then
			fail "key helper: --config needs a value"
		fi
		config=$2
		shift 2
		;;
	*)
		fail "key helper (version @VERSION@): unknown argument $1: the claude-bridge that started this claude is of another version; run the task again"
		;;
	esac
done
if [ -z "$config" ]; then
	fail "key helper (version @VERSION@): no --config given: only a claude that claude-bridge started can use this helper; run the task again from the bridge"
fi
if [ -L "$config" ] || [ ! -f "$config" ]; then
	fail "the claude-bridge that started this claude has exited (its configuration $config is gone); run the task again"
fi
check_private "$config" "the key helper's configuration $config" "'$config'"

# The configuration is data: one name=value per line, the key command last,
# running to the end of the file (it may span lines).
header=
key_file=
key_file_shown=
key_file_word=
home_dir=
key_command=
key_command_timeout=
env_key_file=
env_key_source=
in_command=
while IFS= read -r line || [ -n "$line" ]; do
	if [ -n "$in_command" ]; then
		key_command=$key_command$nl$line
		continue
	fi
	case $line in
	'@CONFIG_HEADER@') header=ok ;;
	key_file=*) key_file=${line#*=} ;;
	key_file_shown=*) key_file_shown=${line#*=} ;;
	key_file_word=*) key_file_word=${line#*=} ;;
	home=*) home_dir=${line#*=} ;;
	key_command_timeout=*) key_command_timeout=${line#*=} ;;
	env_key_file=*) env_key_file=${line#*=} ;;
	env_key_source=*) env_key_source=${line#*=} ;;
	key_command=*)
		key_command=${line#*=}
		in_command=1
		;;
	esac
done <"$config"
if [ "$header" != ok ] || [ -z "$key_file" ] || [ -z "$home_dir" ]; then
	fail "key helper (version @VERSION@): $config is not a configuration it understands; run the task again"
fi
case $key_command_timeout in
'' | *[!0-9]*) key_command_timeout=8 ;;
esac

if [ -n "$env_key_file" ]; then
	case $env_key_source in
	CLAUDE_API_KEY | ANTHROPIC_API_KEY) ;;
	*) fail "key helper: $config names no valid env_key_source" ;;
	esac
	if [ -L "$env_key_file" ] || [ ! -f "$env_key_file" ]; then
		fail "the bridge's $env_key_source is no longer in its runtime file $env_key_file: the claude-bridge that started this claude has exited; run the task again"
	fi
	read_private "$env_key_file" "the runtime file $env_key_file" "'$env_key_file'"
	clean "the bridge's $env_key_source" "set it to the key itself" "$k"
	emit "$env_key_source" "the bridge's $env_key_source"
fi

empty_note=
if [ -L "$key_file" ] && [ ! -e "$key_file" ]; then
	fail "$key_file_shown is a symbolic link to a file that does not exist; fix the link or remove it"
fi
if [ -e "$key_file" ]; then
	if [ ! -f "$key_file" ]; then
		fail "$key_file_shown is not a regular file; remove it and write the key into a file: echo KEY > $key_file_word; chmod 600 $key_file_word"
	fi
	read_private "$key_file" "$key_file_shown" "$key_file_word"
	clean "$key_file_shown" "save it as UTF-8 or ASCII" "$k"
	if [ -n "$k" ]; then
		emit keyFile "$key_file_shown"
	fi
	empty_note=" ($key_file_shown is empty)"
fi

if [ -n "$key_command" ]; then
	# The key command is your own shell line. It runs from your home
	# directory, not from the workspace claude runs this helper in, with your
	# PATH less its relative and empty entries (which would name the
	# workspace's own tools there), and with no input.
	kc_path=
	rest=$user_path
	while [ -n "$rest" ]; do
		entry=${rest%%:*}
		case $rest in
		*:*) rest=${rest#*:} ;;
		*) rest= ;;
		esac
		case $entry in
		/*) kc_path=${kc_path:+$kc_path:}$entry ;;
		esac
	done
	cd -- "$home_dir" || fail "cannot enter $home_dir to run auth.keyCommand there"
	# The command's output and error output go to two files in the bridge's
	# private runtime directory (this configuration's), each removed from
	# the directory before the command runs and read through a descriptor
	# of its own: no name ever leads to a key, and nothing waits for the
	# end of a pipe. A pipe would end only when every process holding it
	# has closed it, and a background child that left the command's process
	# group (setsid sleep 40 & cat keysrc) holds it for as long as it runs.
	# The key is what the command printed by the time it exited.
	[ -n "$rm_cmd" ] || fail "the key helper needs rm in @TOOLDIRS_SHOWN@ to run auth.keyCommand; install coreutils"
	kc_file=${config%/*}/keycommand.$$
	"$rm_cmd" -f -- "$kc_file.out" "$kc_file.err"
	(umask 077 && set -C && : >"$kc_file.out" && : >"$kc_file.err") 2>/dev/null ||
		fail "cannot create the key command's output files in ${config%/*}"
	exec 4>"$kc_file.out" 5<"$kc_file.out" 6>"$kc_file.err" 7<"$kc_file.err"
	"$rm_cmd" -f -- "$kc_file.out" "$kc_file.err" || fail "cannot remove $kc_file.out"
	if [ -n "$timeout_cmd" ]; then
		# timeout runs the command in a process group of its own (it is the
		# group's leader), sends it SIGTERM at the limit and SIGKILL one
		# second later. Once the command has exited or was killed, whatever
		# it left in its group is killed too. A child that left the group
		# is the bridge's to find (by its tag) and kill.
		PATH=${kc_path:-$PATH} "$timeout_cmd" -k 1 "$key_command_timeout" /bin/sh -c "$key_command" </dev/null >&4 2>&6 4>&- 5<&- 6>&- 7<&- &
		kc_pid=$!
		wait "$kc_pid" 2>/dev/null
		st=$?
		kill -9 "-$kc_pid" 2>/dev/null
	else
		PATH=${kc_path:-$PATH} /bin/sh -c "$key_command" </dev/null >&4 2>&6 4>&- 5<&- 6>&- 7<&-
		st=$?
	fi
	exec 4>&- 6>&-
	# What it said on its error output, then its output (sh drops NUL
	# bytes: tr keeps them visible as \001).
	"$tr_cmd" -d '\000' <&7 >&2
	out=$("$tr_cmd" '\000' '\001' <&5)
	exec 5<&- 7<&-
	if [ -n "$timeout_cmd" ]; then
		case $st in
		124) fail "auth.keyCommand timed out after ${key_command_timeout}s" ;;
		137) fail "auth.keyCommand timed out after ${key_command_timeout}s and ignored SIGTERM; it was killed" ;;
		esac
	fi
	if [ "$st" != 0 ]; then
		fail "auth.keyCommand failed (exit status $st)"
	fi
	clean 'the output of auth.keyCommand' 'make it print UTF-8 or ASCII' "$out"
	if [ -z "$k" ]; then
		fail "auth.keyCommand printed nothing"
	fi
	emit keyCommand 'the output of auth.keyCommand'
fi

fail "no API key available: set CLAUDE_API_KEY, write $key_file_shown (chmod 600), or configure auth.keyCommand$empty_note"
`)

// foreignHelperVersion reads the helper version from the first lines of a
// helper file a claude-bridge wrote, 0 when it is not one.
func foreignHelperVersion(content []byte) int {
	m := helperVersionLine.FindSubmatch(content[:min(len(content), 512)])
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}

var helperVersionLine = regexp.MustCompile(`(?m)^# Claude API key helper, generated by claude-bridge \(helper version (\d+)\)`)

// helperConfig is the per-bridge configuration the managed helper reads
// from the file named with --config: "name=value" lines, the key command
// last (it runs to the end of the file, so it may span lines). envKeyFile
// is the bridge's runtime key file ("" for none). resolve refuses paths
// with line breaks, so every other value is one line.
func helperConfig(r resolved, envKeyFile string) []byte {
	timeoutSecs := int(math.Ceil(r.keyCmdTimeout.Seconds()))
	if timeoutSecs < 1 {
		timeoutSecs = 1
	}
	var b strings.Builder
	b.WriteString(configHeader + "\n")
	fmt.Fprintf(&b, "key_file=%s\n", r.keyFile)
	fmt.Fprintf(&b, "key_file_shown=%s\n", r.display(r.keyFile))
	fmt.Fprintf(&b, "key_file_word=%s\n", r.shellWord(r.keyFile))
	fmt.Fprintf(&b, "home=%s\n", r.home)
	fmt.Fprintf(&b, "key_command_timeout=%d\n", timeoutSecs)
	if envKeyFile != "" {
		fmt.Fprintf(&b, "env_key_file=%s\n", envKeyFile)
		fmt.Fprintf(&b, "env_key_source=%s\n", r.envKeySource)
	}
	if r.keyCommand != "" {
		fmt.Fprintf(&b, "key_command=%s\n", r.keyCommand)
	}
	return []byte(b.String())
}

// shQuote quotes s for POSIX sh: inside single quotes everything is literal
// except the quote itself, which closes the quotes, adds an escaped quote
// and reopens them.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isShellSafe reports whether s needs no quoting in sh.
func isShellSafe(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("/._-+,:@%", c):
		default:
			return false
		}
	}
	return true
}

// Fingerprint returns the first 8 hex digits of key's SHA-256: the only
// thing about a key the bridge ever shows.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// parseKey checks helper output the way claude does: trailing whitespace
// trimmed, then one printable-ASCII token of at most 16384 characters. The
// error never quotes the output.
func parseKey(out []byte) (string, error) {
	s := strings.TrimRight(string(out), " \t\r\n\v\f")
	switch {
	case s == "":
		return "", fmt.Errorf("the key helper printed nothing")
	case len(s) > maxKeyLen:
		return "", fmt.Errorf("the key helper printed %d characters; an API key is at most %d", len(s), maxKeyLen)
	case strings.ContainsAny(s, "\n\r"):
		return "", fmt.Errorf("the key helper printed more than one line; it must print only the key")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", fmt.Errorf("the key helper's output is not one API key: it contains spaces or characters that are not printable ASCII")
		}
	}
	return s, nil
}

// splitStderr separates the managed helper's source line from its message.
// A source it does not write (none of the Source* the script names) is
// not taken: the key's source is then the helper's own (SourceHelper).
func splitStderr(stderr string) (source, message string) {
	var rest []string
	for _, line := range strings.Split(stderr, "\n") {
		if s, ok := strings.CutPrefix(line, sourcePrefix); ok {
			switch s = strings.TrimSpace(s); s {
			case SourceEnvClaudeAPIKey, SourceEnvAnthropicAPIKey, SourceKeyFile, SourceKeyCommand:
				source = s
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			rest = append(rest, strings.TrimRight(line, "\r"))
		}
	}
	return source, strings.Join(rest, "\n")
}

// keyShaped matches text that looks like an Anthropic key (sk-ant-...) or any
// long sk- token, so a helper that echoes a key into its error output does not
// leak it through the bridge.
var keyShaped = regexp.MustCompile(`sk-[A-Za-z0-9_\-]{12,}`)

// redact removes each secret, and anything key-shaped, from s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 6 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return keyShaped.ReplaceAllString(s, "[redacted]")
}
