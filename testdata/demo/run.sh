#!/usr/bin/env bash
# Offline demo of claude-bridge: runs a real claude CLI task against the
# loopback Messages API stand-in (testdata/fakeapi), live in the terminal,
# then shows what the task changed. No API key and no network needed.
#
#   make demo            (builds bin/ and installs the pinned claude CLI first)
#   testdata/demo/run.sh [PROMPT]
#
# Environment: CLAUDE_BRIDGE_CLAUDE (the claude CLI; default the pinned one in
# .tools/), DEMO_KEEP=1 keeps the temporary directory for a look afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
demo="$root/testdata/demo"
bridge="$root/bin/claude-bridge"
fakeapi="$root/bin/fakeapi"
claude="${CLAUDE_BRIDGE_CLAUDE:-$root/.tools/node_modules/.bin/claude}"
prompt="${1:-Make the greeting configurable with a -greeting flag, keep the tests passing, and note the change in NOTES.md.}"
# A made-up key: the stand-in accepts only this one, and the bridge hands it
# to claude through its key helper, exactly as it would a real key.
demo_key="sk-ant-demo-claude-bridge-offline-0000"

for bin in "$bridge" "$fakeapi"; do
	if [[ ! -x "$bin" ]]; then
		echo "demo: $bin is missing: run \`make build\`" >&2
		exit 1
	fi
done
if [[ ! -x "$claude" ]]; then
	echo "demo: claude CLI not found at $claude: run \`make tools\`" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/claude-bridge-demo.XXXXXX")
fakeapi_pid=""
cleanup() {
	local status=$?
	if [[ -n "$fakeapi_pid" ]]; then
		kill "$fakeapi_pid" 2>/dev/null || true
		wait "$fakeapi_pid" 2>/dev/null || true
	fi
	if [[ "${DEMO_KEEP:-}" == 1 ]]; then
		echo "demo: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The workspace, and a pristine copy to diff against.
mkdir "$tmp/before"
cp -R "$demo/workspace/." "$tmp/before/"
cp -R "$tmp/before" "$tmp/workspace"
ws="$tmp/workspace"

# A throwaway HOME holding the key file the bridge's auth manager reads.
home="$tmp/home"
mkdir -p "$home/.claude"
(umask 077 && printf '%s\n' "$demo_key" >"$home/.claude/api_key")
chmod 600 "$home/.claude/api_key"

# The stand-in: it prints its URL on stdout when ready.
"$fakeapi" --script "$demo/script.json" --key "$demo_key" --workspace "$ws" \
	>"$tmp/fakeapi.url" 2>"$tmp/fakeapi.log" &
fakeapi_pid=$!
url=""
for _ in $(seq 100); do
	if [[ -s "$tmp/fakeapi.url" ]]; then
		read -r url <"$tmp/fakeapi.url" || true
		[[ -n "$url" ]] && break
	fi
	if ! kill -0 "$fakeapi_pid" 2>/dev/null; then
		break
	fi
	sleep 0.05
done
if [[ -z "$url" ]]; then
	echo "demo: the fake API did not start:" >&2
	cat "$tmp/fakeapi.log" >&2
	exit 1
fi

echo "demo: workspace $ws"
echo "demo: fake Messages API at $url"
echo "demo: prompt: $prompt"
echo

# Run the task. The environment is the user's minus anything that would send
# a real key or read the real claude configuration.
set +e
env -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN -u CLAUDE_CONFIG_DIR -u XDG_CONFIG_HOME -u XDG_STATE_HOME \
	HOME="$home" \
	ANTHROPIC_BASE_URL="$url" \
	CLAUDE_BRIDGE_CLAUDE="$claude" \
	CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
	DISABLE_TELEMETRY=1 \
	DISABLE_AUTOUPDATER=1 \
	"$bridge" run --log-file "$tmp/bridge.log" --workspace "$ws" "$prompt"
status=$?
set -e

echo
if [[ $status -ne 0 ]]; then
	echo "demo: claude-bridge exited with status $status; the end of its log:" >&2
	tail -n 30 "$tmp/bridge.log" >&2 || true
	echo "demo: the fake API's log:" >&2
	cat "$tmp/fakeapi.log" >&2
fi

echo "demo: the fake API answered $(grep -c 'POST /v1/messages' "$tmp/fakeapi.log" || true) requests"
echo "demo: changes in the workspace:"
echo
(cd "$tmp" && diff -ruN before workspace) || true
exit "$status"
