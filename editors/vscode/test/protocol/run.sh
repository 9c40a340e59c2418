#!/usr/bin/env bash
# make test-protocol: the extension's side of the protocol, fast.
#
# Drives the real bin/claude-bridge over stdio with vscode-jsonrpc the way the
# extension does, against the real claude CLI (.tools) and the Messages API
# stand-in (bin/fakeapi), plus unit tests of the extension's pure modules.
# Runs with node's built-in test runner. Needs `make build` and `make tools`
# first (the Makefile target does both). Dependencies: `npm ci` from
# test/protocol/package-lock.json into editors/vscode/.cache/protocol.
#
# Environment: CLAUDE_BRIDGE_BIN, CLAUDE_BRIDGE_FAKEAPI,
# CLAUDE_BRIDGE_TEST_CLAUDE override the binaries; KEEP_SANDBOX=1 keeps each
# test's temp dir (bridge log included).
set -euo pipefail
VSCODE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$(cd "$VSCODE_DIR/../.." && pwd)
source "$VSCODE_DIR/scripts/lib.sh"

CACHE="$VSCODE_DIR/.cache/protocol"
install_into "$CACHE" "$VSCODE_DIR/test/protocol"
npm_ci_cached "$VSCODE_DIR" # markdown-it and diff, which the transcript bundles

# The pure modules of the extension (no vscode import), for the unit tests.
rm -rf "$CACHE/unit"
"$CACHE/node_modules/.bin/esbuild" --bundle --log-level=warning --format=cjs --platform=node --target=node20 \
  --outdir="$CACHE/unit" \
  "$VSCODE_DIR/src/locate.ts" "$VSCODE_DIR/src/settings.ts" "$VSCODE_DIR/src/tasks.ts" "$VSCODE_DIR/src/transcript.ts" \
  "$VSCODE_DIR/src/questions.ts" "$VSCODE_DIR/src/format.ts" "$VSCODE_DIR/src/reviewModel.ts" "$VSCODE_DIR/src/changes.ts" "$VSCODE_DIR/src/commandLists.ts" "$VSCODE_DIR/src/claudeProblem.ts"

cd "$VSCODE_DIR"
export NODE_PATH="$CACHE/node_modules"
export CLAUDE_BRIDGE_UNIT_DIR="$CACHE/unit"
# One file at a time: each test starts its own bridge, claude and stand-in,
# and the machine may be small.
exec node --test --test-concurrency=1 test/unit/*.test.cjs test/protocol/*.test.cjs
