# claude-bridge build and test entry points. See README.md.
SHELL := /bin/bash
GO ?= go
CLAUDE_CODE_VERSION := 2.1.332
TOOLS := $(CURDIR)/.tools
CLAUDE := $(TOOLS)/node_modules/.bin/claude
BRIDGE := $(CURDIR)/bin/claude-bridge
export CLAUDE_BRIDGE_TEST_CLAUDE ?= $(CLAUDE)

.PHONY: all build tools demo test test-go test-nvim test-protocol test-vscode vsix bench lint clean

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

lint:
	@out=$$(gofmt -l cmd server runner testdata); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./... ./testdata/fakeapi/...

test-go: build tools
	$(GO) test -race -count=1 ./... ./testdata/fakeapi/...

test-nvim: build tools
	./editors/nvim/test/run.sh

test-protocol: build tools
	./editors/vscode/test/protocol/run.sh

test: lint test-go test-nvim test-protocol

vsix:
	./editors/vscode/scripts/package.sh

test-vscode: build tools vsix
	./editors/vscode/test/e2e/run.sh

bench: build tools
	./testdata/bench/run.sh

clean:
	rm -rf bin
