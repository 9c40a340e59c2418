# Shared helpers for the editors/vscode scripts (sourced, not run).

# npm_ci_cached DIR: `npm ci` in DIR unless DIR/node_modules was installed
# from the same package-lock.json already (a hash stamp inside node_modules).
npm_ci_cached() {
  local dir=$1 sum stamp
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.claude-bridge-lock.sha256"
  if [[ -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    return 0
  fi
  echo "npm ci in ${dir#"$VSCODE_DIR"/} ($(node --version))" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$sum" >"$stamp"
}

# install_into CACHE_DIR MANIFEST_DIR: copies a committed package.json and
# package-lock.json into a cache folder and `npm ci`s there (cached by hash).
install_into() {
  local cache=$1 manifest=$2
  mkdir -p "$cache"
  cp "$manifest/package.json" "$manifest/package-lock.json" "$cache/"
  npm_ci_cached "$cache"
}
