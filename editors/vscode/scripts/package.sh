#!/usr/bin/env bash
# make vsix: type-checks, bundles with esbuild and packages the extension
# with @vscode/vsce. Prints the path of the .vsix as its last line.
# Works with Node 20+ and npm; installs its dependencies with `npm ci`.
set -euo pipefail
VSCODE_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$VSCODE_DIR/scripts/lib.sh"
cd "$VSCODE_DIR"

npm_ci_cached "$VSCODE_DIR"
npx --no-install tsc -p . --noEmit
npx --no-install tsc -p src/webview --noEmit
rm -rf dist
node esbuild.mjs
version=$(node -p "require('./package.json').version")
out="$VSCODE_DIR/claude-bridge-$version.vsix"
rm -f "$out"
npx --no-install vsce package --no-dependencies --skip-license --out "$out" >&2
echo "$out"
