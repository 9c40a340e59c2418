package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/stream"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// measureSpawn times `claude-bridge serve` from process start to the
// initialize reply, one warm-up run and then o.spawnRuns measured runs. For
// the analysis it also times runs with auth.mode "inherit" (no key helper)
// and the key helper alone.
func (b *bench) measureSpawn() error {
	fmt.Fprintf(os.Stderr, "bench: 1. spawn to initialize reply, %d runs\n", b.o.spawnRuns)
	w, err := newWorld(filepath.Join(b.tmp, "spawn"), b.claude, "http://127.0.0.1:9")
	if err != nil {
		return err
	}
	spawn := func(runs int, initOpts map[string]any) (ds []time.Duration, warm time.Duration, hwm int, err error) {
		for i := 0; i <= runs; i++ {
			p, d, err := startBridge(b.bridge, w, initOpts)
			if err != nil {
				return nil, 0, 0, err
			}
			if h, err := p.vmHWM(); err == nil && h > hwm {
				hwm = h
			}
			if err := p.stop(); err != nil {
				return nil, 0, 0, err
			}
			if i == 0 {
				warm = d
				continue
			}
			ds = append(ds, d)
			b.logf("spawn %d: %s", i, ms(d))
		}
		return ds, warm, hwm, nil
	}
	ds, warm, hwm, err := spawn(b.o.spawnRuns, map[string]any{})
	if err != nil {
		return err
	}
	b.hwm = append(b.hwm, hwmSample{what: "spawn (1, idle after initialize; max of the runs)", kB: hwm})
	med, p90 := median(ds), percentile(ds, 90)
	b.rows = append(b.rows, row{id: "1", what: fmt.Sprintf("spawn to initialize reply (%d runs)", len(ds)),
		figure: fmt.Sprintf("median %s, p90 %s", ms(med), ms(p90)), target: "< 20 ms (median and p90)",
		met: med < 20*time.Millisecond && p90 < 20*time.Millisecond})
	b.notes = append(b.notes, fmt.Sprintf("1: from just before exec to the reply's arrival at the editor, default settings (auth helper mode), same HOME each run (key file present, helper already written); min %s, max %s; one warm-up run before them (%s) not counted.",
		ms(sorted(ds)[0]), ms(sorted(ds)[len(ds)-1]), ms(warm)))

	// For the analysis: without the key helper, and the helper alone.
	inh, _, _, err := spawn(max(b.o.spawnRuns/2, 5), map[string]any{"auth": map[string]any{"mode": "inherit"}})
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{id: "1i", what: fmt.Sprintf("  (for reference) the same with auth.mode inherit (%d runs)", len(inh)),
		figure: fmt.Sprintf("median %s, p90 %s", ms(median(inh)), ms(percentile(inh, 90))), target: "-", na: true})
	helper := filepath.Join(w.home, ".claude", "auth_helper.sh")
	var hs []time.Duration
	for i := 0; i < 10; i++ {
		cmd := exec.Command("/bin/sh", "-c", helper)
		cmd.Env = w.env
		t0 := time.Now()
		out, err := cmd.Output()
		if err != nil || !bytes.Contains(out, []byte(benchKey)) {
			return fmt.Errorf("running the bridge's key helper %s: %v", helper, err)
		}
		hs = append(hs, time.Since(t0))
	}
	b.rows = append(b.rows, row{id: "1h", what: "  (for reference) one run of the bridge's key helper script", figure: "median " + ms(median(hs)), target: "-", na: true})
	return nil
}

// directRun is what the bench saw of one claude process it drove itself.
type directRun struct {
	lastTextAt  time.Time // the last stream_event text_delta line read
	resultAt    time.Time // the result line read
	text        string    // the text deltas joined
	result      *stream.Line
	toolResults int
	toolErrors  int
	permissions int // can_use_tool requests answered
}

// claudeArgs are the arguments the bridge gives claude (runner.BuildArgs
// with the bridge's default permission mode), with the key helper setting.
func claudeArgs(helper string) []string {
	settings, _ := json.Marshal(map[string]string{"apiKeyHelper": helper})
	return []string{
		"-p",
		"--input-format", "stream-json",
		"--output-format", "stream-json",
		"--verbose",
		"--include-partial-messages",
		"--permission-prompt-tool", "stdio",
		"--permission-mode", "acceptEdits",
		"--settings", string(settings),
	}
}

// runDirect runs claude in w's workspace with prompt as a stream-json user
// message, reads its stdout with runner/stream's Reader until the result
// line, allows any tool claude asks about, then closes stdin and waits.
func (b *bench) runDirect(w *world, apiURL, helper, prompt string) (*directRun, error) {
	cmd := exec.Command(b.claude, claudeArgs(helper)...)
	cmd.Dir = w.workspace
	cmd.Env = fakeapi.ClaudeEnv(w.home, apiURL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	var killed atomic.Bool
	timer := time.AfterFunc(b.o.timeoutEach, func() {
		killed.Store(true)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	defer timer.Stop()
	send := func(v any) error {
		line, _ := json.Marshal(v)
		_, err := stdin.Write(append(line, '\n'))
		return err
	}
	// The same opening as the bridge's: initialize, then the user message.
	_ = send(map[string]any{"type": "control_request", "request_id": "bench-1", "request": map[string]any{"subtype": "initialize"}})
	_ = send(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": prompt}, "parent_tool_use_id": nil, "session_id": ""})

	r := &directRun{}
	var text strings.Builder
	rd := stream.NewReader(stdout, 0)
	for r.result == nil {
		raw, err := rd.Next()
		now := time.Now()
		if err != nil {
			if errors.Is(err, stream.ErrLineTooLong) {
				continue
			}
			break
		}
		l, err := stream.Decode(raw)
		if err != nil {
			continue
		}
		switch l.Type {
		case "stream_event":
			if e := l.Event; e != nil && e.Type == "content_block_delta" && e.Delta != nil && e.Delta.Type == "text_delta" {
				text.WriteString(e.Delta.Text)
				r.lastTextAt = now
			}
		case "user":
			if l.Message != nil {
				for _, blk := range l.Message.Content {
					if blk.Type == "tool_result" {
						r.toolResults++
						if blk.IsError {
							r.toolErrors++
						}
					}
				}
			}
		case "control_request":
			if l.Request != nil && l.Request.Subtype == "can_use_tool" {
				r.permissions++
				input := l.Request.Input
				if len(input) == 0 {
					input = json.RawMessage("{}")
				}
				_ = send(map[string]any{"type": "control_response", "response": map[string]any{
					"subtype": "success", "request_id": l.RequestID,
					"response": map[string]any{"behavior": "allow", "updatedInput": input}}})
			}
		case "result":
			r.resultAt = now
			r.result = l
		}
	}
	r.text = text.String()
	stdin.Close()
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	werr := <-exited
	if killed.Load() {
		return nil, fmt.Errorf("claude did not finish within %s (stderr: %s)", b.o.timeoutEach, stderr.String())
	}
	if r.result == nil {
		return nil, fmt.Errorf("claude ended without a result line (%v; stderr: %s)", werr, stderr.String())
	}
	if r.result.IsError {
		return nil, fmt.Errorf("claude's result is an error: %s (stderr: %s)", r.result.Result, stderr.String())
	}
	return r, nil
}

// bridgeRun is what the editor saw of one claude.run.
type bridgeRun struct {
	lastTextAt  time.Time // the last `text` claude/event's arrival
	replyAt     time.Time // the claude.run reply's arrival
	text        string    // the text events joined
	events      int
	texts       int // `text` events
	toolResults int
	toolErrors  int
}

func (b *bench) runBridge(p *bridgeProc, taskID, prompt string) (*bridgeRun, error) {
	m, err := p.runTask(taskID, prompt, b.o.timeoutEach)
	if err != nil {
		return nil, fmt.Errorf("%v (bridge stderr: %s)", err, p.stderr.String())
	}
	var rep taskReply
	if err := json.Unmarshal(m.Result, &rep); err != nil {
		return nil, err
	}
	if rep.Status != "completed" {
		return nil, fmt.Errorf("task %s %s: %s", taskID, rep.Status, rep.Result)
	}
	evs, err := taskEvents(p.client, taskID)
	if err != nil {
		return nil, err
	}
	r := &bridgeRun{replyAt: m.At, events: len(evs)}
	var text strings.Builder
	for _, e := range evs {
		switch e.Kind {
		case "text":
			text.WriteString(e.Text)
			r.lastTextAt = e.At
			r.texts++
		case "toolResult":
			r.toolResults++
			if e.IsError {
				r.toolErrors++
			}
		}
	}
	r.text = text.String()
	return r, nil
}

// messageRequestsSince returns the POST /v1/messages requests that arrived
// after the first n requests.
func messageRequestsSince(api *fakeapi.Server, n int) []fakeapi.Request {
	var out []fakeapi.Request
	for _, r := range api.Requests()[n:] {
		if r.Method == "POST" && r.Path == "/v1/messages" {
			out = append(out, r)
		}
	}
	return out
}

// scenario is one end-to-end measurement: a script for the stand-in and
// what a run must have done.
type scenario struct {
	name     string
	prompt   string
	turns    func(ws string) []fakeapi.Turn
	requests int // API requests a run makes
	// from request arrival to: the last text (a) or the end of the turn (c)
	direct func(r *directRun) time.Time
	bridge func(r *bridgeRun) time.Time
	check  func(w *world, text string, toolResults, toolErrors int) error
}

func (b *bench) scenarios() []scenario {
	long := fakeapi.LongText(b.o.words)
	chunk := b.o.chunk
	final := "Read main.go, changed the greeting and ran echo x."
	return []scenario{{
		name:   "a",
		prompt: fmt.Sprintf("Write a %d-word essay about the bridge.", b.o.words),
		turns: func(string) []fakeapi.Turn {
			t := fakeapi.Text(long)
			t.ChunkSize = chunk
			return []fakeapi.Turn{t}
		},
		requests: 1,
		direct:   func(r *directRun) time.Time { return r.lastTextAt },
		bridge:   func(r *bridgeRun) time.Time { return r.lastTextAt },
		check: func(_ *world, text string, _, _ int) error {
			if text != long {
				return fmt.Errorf("delivered %d bytes of text, not the %d-byte answer (first difference at byte %d)", len(text), len(long), firstDiff(text, long))
			}
			return nil
		},
	}, {
		name:   "c",
		prompt: "Greet the bench in main.go and check the shell works.",
		turns: func(ws string) []fakeapi.Turn {
			path := filepath.Join(ws, "main.go")
			return []fakeapi.Turn{
				fakeapi.ToolUse("Read", map[string]any{"file_path": path}),
				fakeapi.ToolUse("Edit", map[string]any{"file_path": path, "old_string": `println("hello")`, "new_string": `println("hello, bench")`}),
				fakeapi.ToolUse("Bash", map[string]any{"command": "echo x", "description": "Print x"}),
				fakeapi.Text(final),
			}
		},
		requests: 4,
		direct:   func(r *directRun) time.Time { return r.resultAt },
		bridge:   func(r *bridgeRun) time.Time { return r.replyAt },
		check: func(w *world, text string, toolResults, toolErrors int) error {
			if text != final {
				return fmt.Errorf("final text %q, want %q", text, final)
			}
			if toolResults != 3 || toolErrors != 0 {
				return fmt.Errorf("%d tool results (%d errors), want 3 (0)", toolResults, toolErrors)
			}
			got, err := os.ReadFile(filepath.Join(w.workspace, "main.go"))
			if err != nil {
				return err
			}
			if !bytes.Contains(got, []byte(`println("hello, bench")`)) {
				return fmt.Errorf("main.go was not edited: %q", got)
			}
			return nil
		},
	}}
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// measureE2E runs the scenarios with the real claude CLI, direct and
// through one bridge, alternating: round i runs, for each scenario, the
// direct CLI and the bridge (direct first in even rounds, the bridge first
// in odd ones).
func (b *bench) measureE2E() error {
	scs := b.scenarios()
	fmt.Fprintf(os.Stderr, "bench: 2. end to end with the real claude CLI, %d rounds of %d scenarios, direct and through the bridge\n", b.o.rounds, len(scs))
	api := fakeapi.New(fakeapi.Config{Keys: []string{benchKey}})
	if err := api.Start(); err != nil {
		return err
	}
	defer api.Close()
	w, err := newWorld(filepath.Join(b.tmp, "e2e"), b.claude, api.URL())
	if err != nil {
		return err
	}
	helperDir := filepath.Join(b.tmp, "e2e", "helper")
	if err := os.MkdirAll(helperDir, 0o700); err != nil {
		return err
	}
	helper := filepath.Join(helperDir, "api-key-helper.sh")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\nprintf '%s\\n' '"+benchKey+"'\n"), 0o700); err != nil {
		return err
	}
	// followUpIdleSeconds 0: claude's stdin is closed after its result, as
	// the direct runs do, instead of idling for a follow-up.
	p, _, err := startBridge(b.bridge, w, map[string]any{"followUpIdleSeconds": 0})
	if err != nil {
		return err
	}
	defer func() {
		if p != nil {
			p.kill()
		}
	}()

	type sample struct{ direct, bridge []time.Duration }
	samples := make([]sample, len(scs))
	var extra []string
	textEvents := map[string]int{} // scenario: text events of its last bridge run

	one := func(sc scenario, round int, viaBridge bool) (time.Duration, error) {
		if err := w.resetWorkspace(); err != nil {
			return 0, err
		}
		api.SetTurns(sc.turns(w.workspace))
		n0 := len(api.Requests())
		var end time.Time
		var err error
		how := "direct"
		if viaBridge {
			how = "bridge"
			var r *bridgeRun
			r, err = b.runBridge(p, fmt.Sprintf("%s-%d", sc.name, round), sc.prompt)
			if err == nil {
				textEvents[sc.name] = r.texts
				end = sc.bridge(r)
				err = sc.check(w, r.text, r.toolResults, r.toolErrors)
			}
		} else {
			var r *directRun
			r, err = b.runDirect(w, api.URL(), helper, sc.prompt)
			if err == nil {
				end = sc.direct(r)
				err = sc.check(w, r.text, r.toolResults, r.toolErrors)
				if r.permissions > 0 {
					extra = append(extra, fmt.Sprintf("%s direct round %d answered %d permission requests", sc.name, round, r.permissions))
				}
			}
		}
		if err != nil {
			return 0, fmt.Errorf("(%s) %s round %d: %w", sc.name, how, round, err)
		}
		reqs := messageRequestsSince(api, n0)
		if len(reqs) != sc.requests {
			return 0, fmt.Errorf("(%s) %s round %d: %d API requests, want %d", sc.name, how, round, len(reqs), sc.requests)
		}
		for _, rq := range reqs {
			if rq.Status != 200 {
				return 0, fmt.Errorf("(%s) %s round %d: API request answered %d", sc.name, how, round, rq.Status)
			}
		}
		d := end.Sub(reqs[0].Time)
		b.logf("(%s) round %d %s: %s", sc.name, round, how, secs(d))
		return d, nil
	}

	// Warm-up (not counted): one small task each way, so that the first
	// measured run does not pay for a cold page cache.
	warm := scs[len(scs)-1]
	if _, err := one(warm, -1, false); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if _, err := one(warm, -1, true); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	for round := 0; round < b.o.rounds; round++ {
		for i, sc := range scs {
			order := []bool{false, true}
			if round%2 == 1 {
				order = []bool{true, false}
			}
			for _, viaBridge := range order {
				d, err := one(sc, round, viaBridge)
				if err != nil {
					return err
				}
				if viaBridge {
					samples[i].bridge = append(samples[i].bridge, d)
				} else {
					samples[i].direct = append(samples[i].direct, d)
				}
			}
		}
	}
	hwm, err := p.vmHWM()
	if err != nil {
		return err
	}
	b.hwm = append(b.hwm, hwmSample{what: fmt.Sprintf("end to end (2, %d tasks)", 2+2*b.o.rounds), kB: hwm, streaming: true})
	err = p.stop()
	p = nil
	if err != nil {
		return err
	}

	for i, sc := range scs {
		dir, via := samples[i].direct, samples[i].bridge
		d, br := median(dir), median(via)
		over := float64(br-d) / float64(d) * 100
		// How much the direct runs alone vary: when it is more than the
		// 5% margin, one run of the bench cannot tell 5% apart.
		s := sorted(dir)
		vary := float64(s[len(s)-1]-s[0]) / float64(d) * 100
		what := fmt.Sprintf("%d-word answer: API request to last text (%d rounds)", b.o.words, b.o.rounds)
		if sc.name != "a" {
			what = fmt.Sprintf("Read+Edit+Bash turn: first API request to result (%d rounds)", b.o.rounds)
		}
		b.rows = append(b.rows, row{id: "2" + sc.name, what: what,
			figure: fmt.Sprintf("median direct %s, bridge %s (%+.1f%%)", secs(d), secs(br), over),
			target: "bridge within 5% of direct", met: over <= 5, noisy: vary > 10})
		b.notes = append(b.notes, fmt.Sprintf("2%s: direct runs %s (spread %.0f%% of their median); bridge runs %s; paired per-round differences (bridge - direct) %s, median %+.0f ms (%+.1f%%).",
			sc.name, spread(dir), vary, spread(via), pairedDiffs(dir, via), ms0(median(diffs(dir, via))), float64(median(diffs(dir, via)))/float64(d)*100))
	}
	b.notes = append(b.notes, fmt.Sprintf("2: the stand-in streamed the %d-byte answer in %d-byte text deltas without pauses (%d text events at the editor); every run's text was checked equal to the script's (2a: the joined deltas, direct and at the editor); 2c: 3 tool results without errors and main.go edited; timed from the stand-in's arrival time of the first API request, so claude's own start is excluded; one untimed warm-up run each way first.", len(fakeapi.LongText(b.o.words)), b.o.chunk, textEvents["a"]))
	b.notes = append(b.notes, extra...)
	return nil
}

func diffs(direct, bridge []time.Duration) []time.Duration {
	var out []time.Duration
	for i := range direct {
		if i < len(bridge) {
			out = append(out, bridge[i]-direct[i])
		}
	}
	return out
}

func ms0(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pairedDiffs(direct, bridge []time.Duration) string {
	var parts []string
	for i := range direct {
		if i < len(bridge) {
			parts = append(parts, fmt.Sprintf("%+.0f", float64(bridge[i]-direct[i])/float64(time.Millisecond)))
		}
	}
	return "[" + strings.Join(parts, ", ") + "] ms"
}
