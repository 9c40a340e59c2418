// Command gen writes what the Go types of server/lspext generate: the JSON
// Schema of the editor protocol, the VS Code extension's TypeScript
// declarations and the Neovim plugin's LuaCATS annotations. `make generate`
// runs it from the repository's root; gen_test.go fails when the committed
// files differ from its output.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	files, err := generate(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(*root, name)
		if old, err := os.ReadFile(path); err == nil && string(old) == string(files[name]) {
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "wrote", name) // stderr: only the bridge's protocol writes to a stdout in this repository
	}
}

// The generated files, relative to the repository's root.
const (
	schemaFile = "editors/protocol.schema.json"
	tsFile     = "editors/vscode/src/lspExt.ts"
	luaFile    = "editors/nvim/lua/claude_bridge/types.lua"
	sourceDir  = "server/lspext"
)

// generate returns the generated files by path relative to root.
func generate(root string) (map[string][]byte, error) {
	d, err := readDocs(filepath.Join(root, sourceDir))
	if err != nil {
		return nil, err
	}
	p, err := build(d)
	if err != nil {
		return nil, err
	}
	schema, err := p.schemaJSON()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		schemaFile: schema,
		tsFile:     p.typeScript(),
		luaFile:    p.lua(),
	}, nil
}
