#!/usr/bin/env bash
# The extension's static checks (make lint-editors, part of make test):
# tsc type-checks src/ (lspExt.ts, the generated protocol types, included)
# and ESLint with typescript-eslint lints it (eslint.config.mjs). Installs
# the devDependencies with `npm ci` (cached by the lockfile's hash).
set -euo pipefail
VSCODE_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$VSCODE_DIR/scripts/lib.sh"
cd "$VSCODE_DIR"

npm_ci_cached "$VSCODE_DIR"
npx --no-install tsc -p . --noEmit
npx --no-install tsc -p src/webview --noEmit
npx --no-install eslint --max-warnings 0
echo "editors/vscode: tsc and eslint clean"
