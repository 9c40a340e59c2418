// This go.mod only marks editors/ as outside the claude-bridge Go module, so that
// `go test ./...` and `go vet ./...` do not walk editors/vscode/node_modules (some npm
// packages ship Go sources). No Go code lives under editors/.
module github.com/claude-bridge/claude-bridge/editors

go 1.26
