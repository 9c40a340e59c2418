// Command fakeapi serves a scripted stand-in for the Anthropic Messages API on
// loopback, for demos and for test suites not written in Go.
//
//	fakeapi --script script.json [--addr 127.0.0.1:0] [--key K]... [--workspace DIR] [--requests-log FILE]
//
// The script is a JSON object {"turns": [...], "keys": [...], "default": {...},
// "conversations": [{"match": "...", "turns": [...]}]}
// or a bare array of turns (see package fakeapi for the turn format). Every
// "{{workspace}}" in the script's strings becomes --workspace. When the server
// is ready it prints one line, its base URL, to stdout; it logs one line per
// request to stderr (with key fingerprints, never keys) and exits on SIGINT or
// SIGTERM. With --requests-log it also appends each request, body included
// (never its key), as one JSON line to FILE: what suites in other languages
// check to prove what reached the API.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// keyList is a repeatable --key flag.
type keyList []string

func (k *keyList) String() string { return fmt.Sprintf("%d keys", len(*k)) }

func (k *keyList) Set(v string) error {
	if v == "" {
		return errors.New("empty key")
	}
	*k = append(*k, v)
	return nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("fakeapi: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(err)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	script := fs.String("script", "", "JSON script file (required)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	workspace := fs.String("workspace", "", "directory substituted for {{workspace}} in the script")
	requestsLog := fs.String("requests-log", "", "append every request (body included, never the key) to this file as JSON lines")
	var keys keyList
	fs.Var(&keys, "key", "accepted API key (repeatable; none: any non-empty key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *script == "" {
		return errors.New("--script is required")
	}
	data, err := os.ReadFile(*script)
	if err != nil {
		return err
	}
	ws := *workspace
	if ws != "" {
		if ws, err = filepath.Abs(ws); err != nil {
			return err
		}
	}
	cfg, err := LoadScript(data, ws)
	if err != nil {
		return fmt.Errorf("%s: %w", *script, err)
	}
	cfg.Keys = append(cfg.Keys, keys...)
	logger := log.New(stderr, "fakeapi: ", log.Ltime|log.Lmicroseconds)
	var reqLog *os.File
	if *requestsLog != "" {
		if reqLog, err = os.OpenFile(*requestsLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return err
		}
		defer reqLog.Close()
	}
	var reqLogMu sync.Mutex // serialises lines written to reqLog
	cfg.OnRequest = func(r fakeapi.Request) {
		logger.Print(r.String())
		if reqLog != nil {
			line := requestLine(r)
			reqLogMu.Lock()
			defer reqLogMu.Unlock()
			if _, err := reqLog.Write(line); err != nil {
				logger.Printf("--requests-log: %v", err)
			}
		}
	}

	srv := fakeapi.New(cfg)
	if err := srv.Listen(*addr); err != nil {
		return err
	}
	defer srv.Close()
	if _, err := fmt.Fprintln(stdout, srv.URL()); err != nil {
		return err
	}
	logger.Printf("serving %d turns on %s", len(cfg.Turns), srv.URL())
	<-ctx.Done()
	logger.Print("stopping")
	return nil
}

// requestLine is one line of --requests-log: the request without its key
// (only its fingerprint), its body as JSON when it is JSON, and a newline.
func requestLine(r fakeapi.Request) []byte {
	entry := struct {
		Time           string          `json:"time"`
		Method         string          `json:"method"`
		Path           string          `json:"path"`
		KeyFingerprint string          `json:"keyFingerprint"`
		Turn           int             `json:"turn"`
		Status         int             `json:"status"`
		Body           json.RawMessage `json:"body,omitempty"`
	}{r.Time.UTC().Format(time.RFC3339Nano), r.Method, r.Path, fakeapi.KeyFingerprint(r.Key), r.Turn, r.Status, nil}
	if json.Valid(r.Body) {
		var compact bytes.Buffer
		if json.Compact(&compact, r.Body) == nil {
			entry.Body = compact.Bytes()
		}
	}
	b, _ := json.Marshal(entry)
	return append(b, '\n')
}

// LoadScript decodes a script (an object with "turns" or a bare array of
// turns), replacing {{workspace}} in every string (keys included) with ws.
func LoadScript(data []byte, ws string) (fakeapi.Config, error) {
	var cfg fakeapi.Config
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return cfg, err
	}
	if dec.More() {
		return cfg, errors.New("trailing data after the script")
	}
	if ws == "" && bytes.Contains(data, []byte("{{workspace}}")) {
		return cfg, errors.New("the script uses {{workspace}}: give --workspace")
	}
	doc = substitute(doc, "{{workspace}}", ws)
	if arr, ok := doc.([]any); ok {
		doc = map[string]any{"turns": arr}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return cfg, errors.New("the script must be an object or an array of turns")
	}
	for k := range obj {
		switch k {
		case "turns", "keys", "default", "conversations":
		default:
			return cfg, fmt.Errorf("unknown script field %q", k)
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, err
	}
	if len(cfg.Turns) == 0 && len(cfg.Conversations) == 0 {
		return cfg, errors.New("the script has no turns")
	}
	return cfg, nil
}

// substitute replaces old with new in every string of a decoded JSON value.
func substitute(v any, old, new string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, old, new)
	case []any:
		for i := range x {
			x[i] = substitute(x[i], old, new)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[strings.ReplaceAll(k, old, new)] = substitute(val, old, new)
		}
		return out
	default:
		return v
	}
}
