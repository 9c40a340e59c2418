#!/usr/bin/env bash
# The Neovim plugin's test suite: each spec runs in its own headless Neovim.
#
#   test/real/*_spec.lua  against the real bridge (bin/claude-bridge), the real claude CLI
#                         (.tools/node_modules/.bin/claude) and the Messages API stand-in
#                         (bin/fakeapi) playing test/real/<name>.script.json
#   test/mock/*_spec.lua  against test/mock/bridge.js, a scripted bridge (Node) that checks
#                         the plugin's side of the protocol exactly; every message it and
#                         the plugin send each other is validated against
#                         editors/protocol.schema.json (ajv, from the VS Code extension's
#                         devDependencies, installed here), and one the schema refuses
#                         fails the spec
#   test/tmux/*_spec.lua  a Neovim in a real terminal (tmux, 120x35 or 80x24) against the real
#                         bridge, claude CLI and stand-in (test/tmux/<name>.script.json);
#                         the headless spec types with send-keys and reads capture-pane
#
# Usage: editors/nvim/test/run.sh [--real|--mock|--tmux] [NAME...]   (NAME: part of a spec name)
# Needs `make build` (bin/claude-bridge, bin/fakeapi) and `make tools` (the claude CLI)
# for the real specs; node for the mock specs. Environment overrides: NVIM,
# CLAUDE_BRIDGE_BIN, FAKEAPI_BIN, CLAUDE_BRIDGE_TEST_CLAUDE, SPEC_TIMEOUT (seconds),
# KEEP_TMP=1 (keep each spec's temp folder).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
plugin=$(cd "$here/.." && pwd)
repo=$(cd "$plugin/../.." && pwd)
NVIM=${NVIM:-nvim}
BRIDGE=${CLAUDE_BRIDGE_BIN:-$repo/bin/claude-bridge}
FAKEAPI=${FAKEAPI_BIN:-$repo/bin/fakeapi}
CLAUDE=${CLAUDE_BRIDGE_TEST_CLAUDE:-$repo/.tools/node_modules/.bin/claude}
SPEC_TIMEOUT=${SPEC_TIMEOUT:-90}

kinds=(mock real tmux)
filters=()
for a in "$@"; do
  case "$a" in
    --real) kinds=(real) ;;
    --mock) kinds=(mock) ;;
    --tmux) kinds=(tmux) ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) filters+=("$a") ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 2; }
command -v "$NVIM" >/dev/null || die "nvim not found (apt-get install -y neovim)"
for k in "${kinds[@]}"; do
  if [ "$k" = tmux ]; then
    command -v tmux >/dev/null || die "tmux not found (apt-get install -y tmux)"
  fi
  if [ "$k" = real ] || [ "$k" = tmux ]; then
    [ -x "$BRIDGE" ] || die "$BRIDGE missing: run make build"
    [ -x "$FAKEAPI" ] || die "$FAKEAPI missing: run make build"
    [ -x "$CLAUDE" ] || die "$CLAUDE missing: run make tools"
  else
    command -v node >/dev/null || die "node not found (needed by the mock bridge)"
  fi
done

# The mock bridge validates every message against editors/protocol.schema.json with ajv,
# one of the VS Code extension's devDependencies: installed (npm ci, cached by the lock's
# hash) as the extension's own scripts do.
if [[ " ${kinds[*]} " == *" mock "* ]]; then
  VSCODE_DIR="$repo/editors/vscode"
  # shellcheck source=../../vscode/scripts/lib.sh
  source "$VSCODE_DIR/scripts/lib.sh"
  npm_ci_cached "$VSCODE_DIR" || die "npm ci in editors/vscode failed (the mock bridge needs ajv)"
fi

# The stand-in can log the requests it received (bodies included) if it has the flag;
# without it, specs read what claude was given from claude's own session files.
FAKEAPI_REQUESTS_LOG=""
# (--help exits 2: with pipefail the pipeline is judged by grep alone.)
if [[ " ${kinds[*]} " == *" real "* || " ${kinds[*]} " == *" tmux "* ]] && { "$FAKEAPI" --help 2>&1 || true; } | grep -q -- '-requests-log'; then
  FAKEAPI_REQUESTS_LOG=1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cb-nvim.XXXXXX")
fakeapi_pid=""
cleanup() {
  [ -n "$fakeapi_pid" ] && kill "$fakeapi_pid" 2>/dev/null
  [ "${KEEP_TMP:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# pids of processes carrying the run marker in their environment, or running in the
# spec's temp folder (a bridge may give claude an environment of its own)
marked_pids() {
  {
    grep -lsxzF "CB_RUN_ID=$1" /proc/[0-9]*/environ
    find /proc/[0-9]*/cwd -maxdepth 0 -lname "$2*"
  } 2>/dev/null | cut -d/ -f3 | grep -vx "$$" | sort -u
}

make_workspace() {
  local ws=$1
  mkdir -p "$ws"
  git -C "$ws" init -q 2>/dev/null || mkdir -p "$ws/.git"
  cat >"$ws/main.go" <<'EOF'
package main

import "fmt"

func main() {
	fmt.Println("hello")
}
EOF
  printf '# demo\n\nA small workspace for the Neovim specs.\n' >"$ws/README.md"
}

passed=0
failed=0
failures=()

run_spec() {
  local kind=$1 spec=$2
  local name
  name=$(basename "$spec" _spec.lua)
  local tmp="$WORK/$kind-$name"
  local ws="$tmp/ws" home="$tmp/home"
  mkdir -p "$tmp" "$home/.claude"
  make_workspace "$ws"
  local run_id="$kind-$name-$$-$RANDOM"
  local key="sk-ant-test-$RANDOM$RANDOM"
  printf '%s\n' "$key" >"$home/.claude/api_key"
  chmod 600 "$home/.claude/api_key"

  local -a env=(
    "CB_PLUGIN=$plugin" "CB_WS=$ws" "CB_TMP=$tmp" "CB_RESULT=$tmp/result"
    "CB_RUN_ID=$run_id" "HOME=$home" "XDG_STATE_HOME=$tmp/state"
    "XDG_CONFIG_HOME=$tmp/config" "XDG_DATA_HOME=$tmp/data" "XDG_CACHE_HOME=$tmp/cache"
  )
  fakeapi_pid=""
  if [ "$kind" = real ] || [ "$kind" = tmux ]; then
    local script="${spec%_spec.lua}.script.json"
    [ -f "$script" ] || script="$here/real/empty.script.json"
    local -a reqlog=()
    if [ -n "$FAKEAPI_REQUESTS_LOG" ]; then
      reqlog=(--requests-log "$tmp/requests.jsonl")
      env+=("CB_REQUESTS=$tmp/requests.jsonl")
    fi
    "$FAKEAPI" --script "$script" --workspace "$ws" --key "$key" "${reqlog[@]}" \
      >"$tmp/fakeapi.out" 2>"$tmp/fakeapi.log" &
    fakeapi_pid=$!
    local url="" i
    for i in $(seq 1 100); do
      url=$(head -n 1 "$tmp/fakeapi.out" 2>/dev/null)
      [ -n "$url" ] && break
      kill -0 "$fakeapi_pid" 2>/dev/null || break
      sleep 0.1
    done
    if [ -z "$url" ]; then
      echo "FAIL $kind/$name: the Messages API stand-in printed no URL"
      cat "$tmp/fakeapi.log" >&2
      failed=$((failed + 1)); failures+=("$kind/$name"); return
    fi
    env+=(
      "CB_BRIDGE=$BRIDGE --log-level debug --log-file $tmp/bridge.log"
      "CB_FAKEAPI_LOG=$tmp/fakeapi.log" "ANTHROPIC_BASE_URL=$url"
      "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1" "DISABLE_AUTOUPDATER=1" "DISABLE_TELEMETRY=1"
      "CLAUDE_BRIDGE_CLAUDE=$CLAUDE" "CB_CLAUDE=$CLAUDE"
    )
  else
    env+=("CB_BRIDGE=node $here/mock/bridge.js" "MOCK_BRIDGE_LOG=$tmp/mock.jsonl" "CB_MOCK_LOG=$tmp/mock.jsonl"
      "MOCK_SCHEMA_ERRORS=$tmp/schema-violations")
  fi

  local t0=$SECONDS rc
  (
    cd "$ws" &&
      env -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN -u NVIM -u VIMINIT -u MYVIMRC "${env[@]}" \
        timeout -k 5 "$SPEC_TIMEOUT" "$NVIM" --headless -u NONE -i NONE -n -c "luafile $spec" \
        </dev/null >"$tmp/nvim.out" 2>"$tmp/nvim.err"
  )
  rc=$?

  # Nothing the spec started may outlive it (bridge, claude, helpers).
  local left="" i
  for i in $(seq 1 50); do
    left=$(marked_pids "$run_id" "$tmp" | tr '\n' ' ')
    [ -z "${left// /}" ] && break
    sleep 0.1
  done
  local leak=""
  if [ -n "${left// /}" ]; then
    leak="processes left running after Neovim exited: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo " ($p);"; done)"
    # shellcheck disable=SC2086
    kill -9 $left 2>/dev/null
  fi
  if [ -n "$fakeapi_pid" ]; then
    kill "$fakeapi_pid" 2>/dev/null
    wait "$fakeapi_pid" 2>/dev/null
    fakeapi_pid=""
  fi

  local result
  result=$(cat "$tmp/result" 2>/dev/null)
  # A message of the mock's or the plugin's that the schema refuses fails the spec.
  local violations=""
  if [ -s "$tmp/schema-violations" ]; then
    violations="messages the protocol's schema refuses: $(head -c 3000 "$tmp/schema-violations")"
  fi
  if [ $rc -eq 0 ] && [ "$result" = PASS ] && [ -z "$leak" ] && [ -z "$violations" ]; then
    passed=$((passed + 1))
    printf 'ok   %-28s %3ds\n' "$kind/$name" $((SECONDS - t0))
  else
    failed=$((failed + 1))
    failures+=("$kind/$name")
    printf 'FAIL %-28s %3ds (exit %s)\n' "$kind/$name" $((SECONDS - t0)) "$rc"
    [ $rc -eq 124 ] && echo "  Neovim did not finish within ${SPEC_TIMEOUT}s"
    [ -n "$leak" ] && echo "  $leak"
    [ -n "$violations" ] && echo "  $violations"
    [ -n "$result" ] && sed 's/^/  /' <<<"$result"
    echo "  --- nvim stderr (last 60 lines)"; tail -n 60 "$tmp/nvim.err" | sed 's/^/  /'
    if [ -f "$tmp/bridge.log" ]; then
      echo "  --- bridge log (last 40 lines)"; tail -n 40 "$tmp/bridge.log" | sed 's/^/  /'
    fi
    if [ -f "$tmp/fakeapi.log" ]; then
      echo "  --- stand-in log (last 20 lines)"; tail -n 20 "$tmp/fakeapi.log" | sed 's/^/  /'
    fi
  fi
}

for kind in "${kinds[@]}"; do
  for spec in "$here/$kind"/*_spec.lua; do
    [ -e "$spec" ] || continue
    if [ ${#filters[@]} -gt 0 ]; then
      match=""
      for f in "${filters[@]}"; do
        case "$(basename "$spec")" in *"$f"*) match=1 ;; esac
      done
      [ -n "$match" ] || continue
    fi
    run_spec "$kind" "$spec"
  done
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ] || { printf '  failed: %s\n' "${failures[@]}"; exit 1; }
