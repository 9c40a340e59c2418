# claude-bridge build and test entry points. See README.md.
SHELL := /bin/bash
GO ?= go
CLAUDE_CODE_VERSION := 2.1.332
TOOLS := $(CURDIR)/.tools
CLAUDE := $(TOOLS)/node_modules/.bin/claude
BRIDGE := $(CURDIR)/bin/claude-bridge
export CLAUDE_BRIDGE_TEST_CLAUDE ?= $(CLAUDE)

.PHONY: all build tools demo generate test test-all test-go test-fuzz fuzz test-nvim test-protocol test-vscode vsix bench lint lint-editors luacheck clean nvim chromium

# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

all: build

build:
	$(GO) build -o bin/claude-bridge ./cmd/claude-bridge
	$(GO) build -o bin/fakeapi ./testdata/fakeapi/cmd/fakeapi

# The pinned claude CLI, installed project-locally (git-ignored), never globally.
tools: $(CLAUDE)
$(CLAUDE):
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --no-audit --no-fund --prefix . @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	test -x $(CLAUDE)

demo: build tools
	./testdata/demo/run.sh

# The editor protocol's JSON Schema, TypeScript and LuaCATS files, from the
# Go types of server/lspext (a test fails when they are not up to date).
generate:
	$(GO) run ./server/lspext/gen

lint: lint-editors
	@out=$$(gofmt -l cmd server runner testdata); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./... ./testdata/fakeapi/...

# The editors' own linters: luacheck (.luacheckrc) over the Neovim plugin and
# its specs; tsc and ESLint with typescript-eslint (eslint.config.mjs) over
# the VS Code extension.
lint-editors: luacheck
	cd editors/nvim && luacheck --quiet --no-color .
	./editors/vscode/scripts/lint.sh

# luacheck (Debian's lua-check), installed if missing.
luacheck:
	@command -v luacheck >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq lua-check; }

# -timeout: cmd/claude-bridge's end-to-end tests take 6 to 10 minutes under -race on a
# busy two-core machine, past go test's default of 10; the cap only keeps a hang from
# lasting for ever.
test-go: build tools
	$(GO) test -race -count=1 -timeout 30m ./... ./testdata/fakeapi/...

# Fuzz targets, as package:FuzzName (their seed corpora run in test-go too).
# test-fuzz fuzzes each for FUZZTIME; `make fuzz` for FUZZ_LONG.
FUZZ_TARGETS := ./server/bufsync:FuzzCarry ./runner/stream:FuzzDecode ./runner/stream:FuzzReader ./runner/stream:FuzzParseDelta ./runner/stream:FuzzJoin \
	./server/lspstream:FuzzReadFrames
# Counts, not durations: a duration ends in a race in Go 1.26's fuzz coordinator that
# fails the target with "context deadline exceeded" on a busy machine (golang/go#75804,
# fixed in Go 1.27).
FUZZTIME ?= 20000x
FUZZ_LONG ?= 2000000x
test-fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t#*:} ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

fuzz:
	$(MAKE) test-fuzz FUZZTIME=$(FUZZ_LONG)

# Neovim (0.7.2 from Debian) and tmux (a real terminal for the plugin's tmux
# specs) for the plugin's suite, installed if missing.
nvim:
	@command -v nvim >/dev/null && command -v tmux >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq neovim tmux; }

# Chromium drives the real VS Code (code-server); libkrb5-dev lets
# code-server's native modules build.
chromium:
	@command -v chromium >/dev/null && dpkg -s libkrb5-dev >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium libkrb5-dev; }

test-nvim: build tools nvim
	./editors/nvim/test/run.sh

test-protocol: build tools
	./editors/vscode/test/protocol/run.sh

# The fast suites (well under 30 minutes): what CI runs first.
test: lint test-go test-fuzz test-nvim test-protocol

# Every suite, the real VS Code one included.
test-all: test test-vscode

vsix:
	./editors/vscode/scripts/package.sh

test-vscode: build tools chromium vsix
	./editors/vscode/test/e2e/run.sh

bench: build tools
	$(GO) test -run '^$$' -bench . -benchmem ./server/textedit/ ./server/bufsync/ ./server/lspext/ ./server/ ./runner/checkpoint/
	$(GO) test -run '^$$' -bench CommandFolders -benchmem ./runner/
	./testdata/bench/run.sh

clean:
	rm -rf bin
