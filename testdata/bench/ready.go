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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/stream"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// readyPermissionMode is the permission mode of measurement 2, on both
// sides: in "default" mode claude asks before Edit and Bash (not Read), so
// the tool scenario makes two permission questions.
const readyPermissionMode = "default"

// settle is how long a ready claude (the bench's own, or the bridge's warm
// one) sits idle before the timed prompt, on both sides alike: what is
// measured is a claude that is already there when the user types, not one
// still busy finishing its start.
const settle = 300 * time.Millisecond

// readyClaude is the floor: a claude process the bench started and
// initialised itself (its answer to the initialize control request read),
// driven directly over stream-json, the way the bridge drives its own.
type readyClaude struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	rd     *stream.Reader
	stderr *lockedBuffer
	killed atomic.Bool
	timer  *time.Timer
}

// readyArgs are the arguments the bridge gives claude (runner.BuildArgs
// with the mode of measurement 2), with a key helper setting.
func readyArgs(helper string) []string {
	settings, _ := json.Marshal(map[string]string{"apiKeyHelper": helper})
	return runner.BuildArgs(runner.Options{PermissionMode: readyPermissionMode}, []string{"--settings", string(settings)})
}

// startReady starts claude in w's workspace, sends initialize and returns
// once claude has answered it.
func (b *bench) startReady(w *world, apiURL, helper string) (*readyClaude, error) {
	cmd := exec.Command(b.claude, readyArgs(helper)...)
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
	r := &readyClaude{cmd: cmd, stdin: stdin, stdout: stdout, rd: stream.NewReader(stdout, 0), stderr: &lockedBuffer{}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r.timer = time.AfterFunc(b.o.timeoutEach, func() {
		r.killed.Store(true)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	if err := r.send(map[string]any{"type": "control_request", "request_id": "bench-init", "request": map[string]any{"subtype": "initialize"}}); err != nil {
		r.close()
		return nil, err
	}
	for {
		l, _, err := r.next()
		if err != nil {
			r.close()
			return nil, fmt.Errorf("claude ended before it answered initialize: %v (stderr: %s)", err, r.stderr.String())
		}
		if l.Type == "control_response" && l.Response != nil && l.Response.RequestID == "bench-init" {
			return r, nil
		}
	}
}

func (r *readyClaude) send(v any) error {
	line, _ := json.Marshal(v)
	_, err := r.stdin.Write(append(line, '\n'))
	return err
}

// next reads and decodes the next stream line, and says when it was read.
func (r *readyClaude) next() (*stream.Line, time.Time, error) {
	for {
		raw, err := r.rd.Next()
		now := time.Now()
		if err != nil {
			if errors.Is(err, stream.ErrLineTooLong) {
				continue
			}
			return nil, now, err
		}
		l, err := stream.Decode(raw)
		if err != nil {
			continue
		}
		return l, now, nil
	}
}

// directRun is what the bench saw of one turn of a claude it drove itself.
type directRun struct {
	promptAt    time.Time // just before the prompt was written
	lastTextAt  time.Time // the last stream_event text_delta line read
	resultAt    time.Time // the result line read
	text        string    // the text deltas joined
	result      *stream.Line
	toolResults int
	toolErrors  int
	permissions int      // can_use_tool requests answered
	asked       []string // the tools asked about
}

// turn writes prompt and reads until the result line, allowing every tool
// claude asks about.
func (r *readyClaude) turn(prompt string) (*directRun, error) {
	d := &directRun{promptAt: time.Now()}
	if err := r.send(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": prompt}, "parent_tool_use_id": nil, "session_id": ""}); err != nil {
		return nil, err
	}
	var text strings.Builder
	var join stream.Joiner // as any reader of claude's deltas must (surrogates)
	for d.result == nil {
		l, now, err := r.next()
		if err != nil {
			if r.killed.Load() {
				return nil, fmt.Errorf("claude did not finish in time (stderr: %s)", r.stderr.String())
			}
			return nil, fmt.Errorf("claude ended without a result line (%v; stderr: %s)", err, r.stderr.String())
		}
		switch l.Type {
		case "stream_event":
			if e := l.Event; e != nil && e.Type == "content_block_delta" && e.Delta != nil && e.Delta.Type == "text_delta" {
				text.WriteString(join.Next(e.Delta.Text))
				d.lastTextAt = now
			}
		case "user":
			if l.Message != nil {
				for _, blk := range l.Message.Content {
					if blk.Type == "tool_result" {
						d.toolResults++
						if blk.IsError {
							d.toolErrors++
						}
					}
				}
			}
		case "control_request":
			if l.Request != nil && l.Request.Subtype == "can_use_tool" {
				d.permissions++
				d.asked = append(d.asked, l.Request.ToolName)
				input := l.Request.Input
				if len(input) == 0 {
					input = json.RawMessage("{}")
				}
				_ = r.send(map[string]any{"type": "control_response", "response": map[string]any{
					"subtype": "success", "request_id": l.RequestID,
					"response": map[string]any{"behavior": "allow", "updatedInput": input}}})
			}
		case "result":
			d.resultAt = now
			d.result = l
		}
	}
	d.text = text.String()
	if d.result.IsError {
		return nil, fmt.Errorf("claude's result is an error: %s (stderr: %s)", d.result.Result, r.stderr.String())
	}
	return d, nil
}

// close closes claude's stdin (it exits after its turn) and waits for it.
func (r *readyClaude) close() {
	r.stdin.Close()
	_, _ = io.Copy(io.Discard, r.stdout)
	_ = r.cmd.Wait()
	r.timer.Stop()
}

// bridgeRun is what the editor saw of one claude.run.
type bridgeRun struct {
	sentAt        time.Time // just before claude.run was written
	firstProgress time.Time // the first $/progress of the task's token
	lastTextAt    time.Time // the last `text` claude/event's arrival
	replyAt       time.Time // the claude.run reply's arrival
	text          string    // the text events joined
	events        int
	texts         int // `text` events
	toolResults   int
	toolErrors    int
	permissions   int // permission events the editor was asked about
}

// runBridge sends claude.run with a progress token and waits for its reply.
func (b *bench) runBridge(p *bridgeProc, taskID, prompt string) (*bridgeRun, error) {
	token := "bench-" + taskID
	sent := time.Now()
	m, err := p.runTask(taskID, prompt, token, b.o.timeoutEach)
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
	r := &bridgeRun{sentAt: sent, replyAt: m.At, events: len(evs)}
	for _, pm := range p.client.Messages("$/progress") {
		if bytes.Contains(pm.Params, []byte(strconv.Quote(token))) {
			r.firstProgress = pm.At
			break
		}
	}
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
		case "permission":
			if !e.Automatic {
				r.permissions++
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
	name        string
	prompt      string
	turns       func(ws string) []fakeapi.Turn
	requests    int // API requests a run makes
	permissions int // permission questions a run asks
	check       func(w *world, text string, toolResults, toolErrors int) error
}

func (b *bench) scenarios() []scenario {
	long := fakeapi.LongText(b.o.words)
	chunk := b.o.chunk
	final := "Read main.go, changed the greeting and wrote bench.txt."
	return []scenario{{
		name:   "a",
		prompt: fmt.Sprintf("Write a %d-word essay about the bridge.", b.o.words),
		turns: func(string) []fakeapi.Turn {
			t := fakeapi.Text(long)
			t.ChunkSize = chunk
			return []fakeapi.Turn{t}
		},
		requests: 1,
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
				fakeapi.ToolUse("Bash", map[string]any{"command": "echo x > bench.txt", "description": "Write x to bench.txt"}),
				fakeapi.Text(final),
			}
		},
		requests:    4,
		permissions: 2,
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

// readySamples are the figures of measurement 2, per side.
type readySamples struct {
	toRequest []time.Duration // prompt (claude.run) to the first API request, every run
	stream    []time.Duration // (a) the first API request to the last text
	toolTurn  []time.Duration // (c) prompt (claude.run) to the result (the reply)
	progress  []time.Duration // bridge: claude.run to the first $/progress
}

// measureReady runs the scenarios with the real claude CLI, on one side a
// claude the bench started and initialised itself (the floor) and on the
// others the bridge with its warm claude ready, twice: with
// followUpIdleSeconds 0 (claude's stdin closed after its result, as the
// floor's is) and with the default settings (each task's claude parked for
// a follow-up: what a user gets, the idle budget filling up after four
// tasks). Round i runs, for each scenario, the three in turn, the first of
// them rotating from round to round.
func (b *bench) measureReady() error {
	scs := b.scenarios()
	fmt.Fprintf(os.Stderr, "bench: 2. end to end with the real claude CLI, %d rounds of %d scenarios, a ready claude and the bridge (two configurations)\n", b.o.rounds, len(scs))
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
	// the floor's is, instead of idling for a follow-up (the warm claude
	// is kept all the same).
	var extraArgs []string
	if b.o.profileDir != "" {
		extraArgs = append(extraArgs, "--cpuprofile", filepath.Join(b.o.profileDir, "bridge-e2e.cpu.pprof"))
	}
	initOpts := map[string]any{"followUpIdleSeconds": 0, "permissionMode": readyPermissionMode}
	if b.o.logLevel != "" {
		initOpts["logLevel"] = b.o.logLevel
	}
	p, _, err := startBridgeArgs(b.bridge, w, initOpts, extraArgs...)
	if err != nil {
		return err
	}
	defer func() {
		if p != nil {
			p.kill()
		}
	}()
	// The bridge with the default settings, in a world of its own (its
	// parked claudes work in their own folder).
	wd, err := newWorld(filepath.Join(b.tmp, "e2e-defaults"), b.claude, api.URL())
	if err != nil {
		return err
	}
	defOpts := map[string]any{"permissionMode": readyPermissionMode}
	if b.o.logLevel != "" {
		defOpts["logLevel"] = b.o.logLevel
	}
	pd, _, err := startBridgeArgs(b.bridge, wd, defOpts)
	if err != nil {
		return err
	}
	defer func() {
		if pd != nil {
			pd.kill()
		}
	}()

	var floor, via, viaDef readySamples
	var warmNote string
	coldDef := 0 // runs of the default-settings bridge with no warm claude ready
	var floorKB, warmKB []int
	var rssMax int                 // the bridge's VmRSS while it streamed (a), sampled
	var bridgeCPU []time.Duration  // the bridge's CPU time for each run of (a)
	textEvents := map[string]int{} // scenario: text events of its last bridge run

	// side 0 is the floor, 1 the bridge (followUpIdleSeconds 0), 2 the
	// bridge with the default settings.
	one := func(sc scenario, round int, side int) error {
		w := w
		if side == 2 {
			w = wd
		}
		if err := w.resetWorkspace(); err != nil {
			return err
		}
		api.SetTurns(sc.turns(w.workspace))
		how := "floor"
		var start time.Time // prompt written / claude.run sent
		var lastText, end time.Time
		var err error
		var n0 int
		// Every side runs with the bridges quiet, their warm claudes ready:
		// a bridge starts the next one after a task, which would otherwise
		// compete with the run for the CPU.
		ready, kB, werr := p.waitWarm(30 * time.Second)
		if werr != nil {
			return werr
		}
		// The default-settings bridge without a warm claude by then is
		// measured as it is (coldDef counts its runs).
		readyDef, _, _ := pd.waitWarm(30 * time.Second)
		if side == 2 {
			how = "bridge (defaults)"
			if !readyDef {
				coldDef++
			}
			time.Sleep(settle)
			n0 = len(api.Requests())
			var r *bridgeRun
			r, err = b.runBridge(pd, fmt.Sprintf("d%s-%d", sc.name, round), sc.prompt)
			if err == nil {
				start, lastText, end = r.sentAt, r.lastTextAt, r.replyAt
				err = sc.check(w, r.text, r.toolResults, r.toolErrors)
				if err == nil && r.permissions != sc.permissions {
					err = fmt.Errorf("the editor was asked %d permission questions, want %d", r.permissions, sc.permissions)
				}
			}
		} else if side == 1 {
			how = "bridge"
			if !ready {
				warmNote = "the bridge reported no warm claude: its runs started claude cold"
			} else if kB > 0 {
				warmKB = append(warmKB, kB)
			}
			time.Sleep(settle)
			n0 = len(api.Requests())
			var stopRSS func() int
			cpu0, _ := cpuTime(p.pid())
			if sc.name == "a" {
				stopRSS = sampleRSS(p.pid(), 5*time.Millisecond)
			}
			var r *bridgeRun
			r, err = b.runBridge(p, fmt.Sprintf("%s-%d", sc.name, round), sc.prompt)
			if stopRSS != nil {
				rssMax = max(rssMax, stopRSS())
			}
			if cpu1, e := cpuTime(p.pid()); e == nil && sc.name == "a" && round >= 0 {
				bridgeCPU = append(bridgeCPU, cpu1-cpu0)
			}
			if err == nil {
				textEvents[sc.name] = r.texts
				start, lastText, end = r.sentAt, r.lastTextAt, r.replyAt
				err = sc.check(w, r.text, r.toolResults, r.toolErrors)
				if err == nil && r.permissions != sc.permissions {
					err = fmt.Errorf("the editor was asked %d permission questions, want %d", r.permissions, sc.permissions)
				}
				if err == nil && r.firstProgress.IsZero() {
					err = errors.New("no $/progress for the task's token")
				}
				if err == nil {
					via.progress = append(via.progress, r.firstProgress.Sub(r.sentAt))
				}
			}
		} else {
			var rc *readyClaude
			rc, err = b.startReady(w, api.URL(), helper)
			if err != nil {
				return fmt.Errorf("(%s) floor round %d: %w", sc.name, round, err)
			}
			if kB, e := treeKB(rc.cmd.Process.Pid); e == nil {
				floorKB = append(floorKB, kB)
			}
			time.Sleep(settle)
			n0 = len(api.Requests())
			var r *directRun
			r, err = rc.turn(sc.prompt)
			rc.close()
			if err == nil {
				start, lastText, end = r.promptAt, r.lastTextAt, r.resultAt
				err = sc.check(w, r.text, r.toolResults, r.toolErrors)
				if err == nil && r.permissions != sc.permissions {
					err = fmt.Errorf("claude asked %d permission questions (%s), want %d", r.permissions, strings.Join(r.asked, ", "), sc.permissions)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("(%s) %s round %d: %w", sc.name, how, round, err)
		}
		reqs := messageRequestsSince(api, n0)
		if len(reqs) != sc.requests {
			return fmt.Errorf("(%s) %s round %d: %d API requests, want %d", sc.name, how, round, len(reqs), sc.requests)
		}
		for _, rq := range reqs {
			if rq.Status != 200 {
				return fmt.Errorf("(%s) %s round %d: API request answered %d", sc.name, how, round, rq.Status)
			}
		}
		s := [...]*readySamples{&floor, &via, &viaDef}[side]
		if round >= 0 {
			s.toRequest = append(s.toRequest, reqs[0].Time.Sub(start))
			switch sc.name {
			case "a":
				s.stream = append(s.stream, lastText.Sub(reqs[0].Time))
			case "c":
				s.toolTurn = append(s.toolTurn, end.Sub(start))
			}
		}
		b.logf("(%s) round %d %s: prompt to request %s, to the last text %s, to the end %s", sc.name, round, how,
			ms(reqs[0].Time.Sub(start)), ms(lastText.Sub(start)), ms(end.Sub(start)))
		return nil
	}

	// Warm-up (not counted): one small task each way, so that the first
	// measured run does not pay for a cold page cache.
	warm := scs[len(scs)-1]
	for side := 0; side < 3; side++ {
		if err := one(warm, -1, side); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	for round := 0; round < b.o.rounds; round++ {
		for _, sc := range scs {
			for i := 0; i < 3; i++ {
				if err := one(sc, round, (round+i)%3); err != nil {
					return err
				}
			}
		}
	}
	hwm, err := p.vmHWM()
	if err != nil {
		return err
	}
	b.hwm = append(b.hwm, hwmSample{what: fmt.Sprintf("end to end (2, %d tasks)", 1+len(scs)*b.o.rounds), kB: hwm, streaming: true})
	defCounts, _ := pd.processCounts()
	err = p.stop()
	p = nil
	if err != nil {
		return err
	}
	err = pd.stop()
	pd = nil
	if err != nil {
		return err
	}

	fl, br, bd := median(floor.toRequest), median(via.toRequest), median(viaDef.toRequest)
	b.rows = append(b.rows, row{id: "2p", what: fmt.Sprintf("prompt to the API request (%d runs each)", len(floor.toRequest)),
		figure: fmt.Sprintf("ready claude %s, bridge %s (%+.0f ms); with the default settings %s (%+.0f ms)", medRange(floor.toRequest), medRange(via.toRequest), ms0(br-fl), medRange(viaDef.toRequest), ms0(bd-fl)),
		target: "bridge within 30 ms of a ready claude", met: br-fl <= 30*time.Millisecond && bd-fl <= 30*time.Millisecond})
	fl, br, bd = median(floor.toolTurn), median(via.toolTurn), median(viaDef.toolTurn)
	b.rows = append(b.rows, row{id: "2c", what: fmt.Sprintf("3-tool turn, 2 permission questions: prompt to result (%d rounds)", len(floor.toolTurn)),
		figure: fmt.Sprintf("ready claude %s, bridge %s (%.2fx); with the default settings %s (%.2fx)", medRange(floor.toolTurn), medRange(via.toolTurn), float64(br)/float64(fl), medRange(viaDef.toolTurn), float64(bd)/float64(fl)),
		target: "bridge at most 1.05x", met: float64(br) <= 1.05*float64(fl) && float64(bd) <= 1.05*float64(fl), noisy: spreadPct(floor.toolTurn) > 10})
	fl, br = median(floor.stream), median(via.stream)
	b.rows = append(b.rows, row{id: "2a", what: fmt.Sprintf("%d-word answer: API request to the last text (%d rounds)", b.o.words, len(floor.stream)),
		figure: fmt.Sprintf("ready claude %s, bridge %s (%.2fx)", medRange(floor.stream), medRange(via.stream), float64(br)/float64(fl)),
		target: "bridge at most 1.05x", met: float64(br) <= 1.05*float64(fl), noisy: spreadPct(floor.stream) > 10})
	pg := median(via.progress)
	b.rows = append(b.rows, row{id: "2f", what: fmt.Sprintf("claude.run to its first $/progress (%d runs)", len(via.progress)),
		figure: medRange(via.progress), target: "< 50 ms", met: pg < 50*time.Millisecond})
	if rssMax > 0 {
		b.rows = append(b.rows, row{id: "2m", what: "bridge RSS while it streams the answer of 2a (VmRSS sampled every 5 ms, max)",
			figure: fmt.Sprintf("%.1f MiB", mb(rssMax)), target: "< 20 MiB", met: mb(rssMax) < 20})
	}
	if len(bridgeCPU) > 0 {
		b.rows = append(b.rows, row{id: "2u", what: "  (for information) the bridge's CPU time (user+system) for one run of 2a",
			figure: medRange(bridgeCPU), target: "-", na: true})
	}
	if len(warmKB) > 0 {
		b.rows = append(b.rows, row{id: "2w", what: "  (for information) what one warm claude costs: RSS of its process tree",
			figure: fmt.Sprintf("median %.0f MiB (a ready claude of the bench: %.0f MiB)", mb(medianInt(warmKB)), mb(medianInt(floorKB))), target: "-", na: true})
	}
	b.notes = append(b.notes, fmt.Sprintf("2: the ready claude is one the bench started with the bridge's arguments (--permission-mode %s) and initialised (initialize answered) before the timed prompt; every run (either side) waited until the bridge's `claude.tasks {processes: true}` reported a warm claude (the bridge is quiet then: it starts the next one after a task), then sat idle %s before the prompt. Times run from writing the prompt (the ready claude) or claude.run (the bridge) to the stand-in's arrival time of the first API request (2p), to the result line or the claude.run reply (2c), or from that request to the last text read from claude or received as a `text` claude/event (2a). Figures are medians with min–max; each round runs the two sides back to back, their order alternating; one untimed warm-up run each way first.", readyPermissionMode, settle))
	b.notes = append(b.notes, fmt.Sprintf("2a: the stand-in streamed the %d-byte answer in %s without pauses (%d text events at the editor); every run's text was checked equal to the script's; 2c: Read, Edit and Bash, the last two asked about and allowed (by the bench, or by the editor through window/showMessageRequest), main.go edited; paired per-round differences (bridge - ready claude): 2a %s, 2c %s.",
		len(fakeapi.LongText(b.o.words)), chunkWhat(b.o.chunk), textEvents["a"], pairedDiffs(floor.stream, via.stream), pairedDiffs(floor.toolTurn, via.toolTurn)))
	b.notes = append(b.notes, fmt.Sprintf("2p, 2c: \"bridge\" is a bridge with followUpIdleSeconds 0 (claude's stdin closed after its result, as the ready claude's is); \"with the default settings\" another bridge, in a folder of its own, with followUpIdleSeconds, maxIdleProcesses and maxConcurrentTasks at their defaults: each task's claude is parked for a follow-up, the idle budget full from the fifth task on (%d tasks each; at the end it had %d parked and %d warm, %d of %d processes), and %d of its runs found no warm claude ready.",
		1+len(scs)*b.o.rounds, defCounts.Idle, defCounts.Warm, defCounts.Live, defCounts.Slots, coldDef))
	if warmNote != "" {
		b.notes = append(b.notes, "2: "+warmNote+".")
	}
	return nil
}

// processCounts is the bridge's claude.tasks processes report.
func (p *bridgeProc) processCounts() (lspext.ProcessCounts, error) {
	var rep lspext.TasksResult
	err := p.client.Request("workspace/executeCommand", map[string]any{"command": lspext.CommandTasks, "arguments": []any{map[string]any{"processes": true}}}, &rep, 10*time.Second)
	return rep.Processes, err
}

func chunkWhat(chunk int) string {
	if chunk <= 0 {
		return "one word per text delta"
	}
	return fmt.Sprintf("%d-byte text deltas", chunk)
}

// waitWarm waits until the bridge reports a warm claude ready, and returns
// the RSS of that claude's process tree (0 if it cannot tell which it is).
// ready is false for a bridge that reports no warm claudes at all.
func (p *bridgeProc) waitWarm(timeout time.Duration) (ready bool, kB int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		var raw json.RawMessage
		if err := p.client.Request("workspace/executeCommand", map[string]any{"command": lspext.CommandTasks, "arguments": []any{map[string]any{"processes": true}}}, &raw, 10*time.Second); err != nil {
			return false, 0, err
		}
		if !bytes.Contains(raw, []byte(`"warm":`)) {
			return false, 0, nil // a bridge from before prewarm
		}
		var rep lspext.TasksResult
		if err := lspext.Decode(raw, &rep); err != nil {
			return false, 0, fmt.Errorf("claude.tasks: %w", err)
		}
		n := rep.Processes.Warm
		if n > 0 {
			if rep.Processes.Live == n {
				// Only warm claudes are alive: the bridge's claude children are they.
				for _, c := range p.claudeChildren() {
					if k, err := treeKB(c); err == nil {
						kB = max(kB, k)
					}
				}
			}
			return true, kB, nil
		}
		if time.Now().After(deadline) {
			return false, 0, fmt.Errorf("no warm claude within %s (bridge stderr: %s)", timeout, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// claudeChildren are the bridge's child processes other than its watchdog.
func (p *bridgeProc) claudeChildren() []int {
	var out []int
	for _, pid := range fakeapi.Descendants(p.pid()) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(p.pid()) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte("__watchdog")) {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// cpuTime is the CPU time (user and system) pid has used, from
// /proc/pid/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// treeKB is the resident set of pid and everything below it, in kB.
func treeKB(pid int) (int, error) {
	total, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	for _, c := range fakeapi.Descendants(pid) {
		if k, err := procStatusKB(c, "VmRSS"); err == nil {
			total += k
		}
	}
	return total, nil
}

// sampleRSS samples pid's VmRSS every interval until the returned function
// is called, which returns the largest sample in kB.
func sampleRSS(pid int, interval time.Duration) func() int {
	var mu sync.Mutex
	peak := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // ends when stop is closed
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if k, err := procStatusKB(pid, "VmRSS"); err == nil {
				mu.Lock()
				peak = max(peak, k)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func medianInt(xs []int) int {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x)
	}
	return int(median(ds))
}

// medRange is "median (min–max)".
func medRange(ds []time.Duration) string {
	s := sorted(ds)
	if len(s) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%s–%s)", secs(median(ds)), secs(s[0]), secs(s[len(s)-1]))
}

// spreadPct is how far the samples spread, in percent of their median.
func spreadPct(ds []time.Duration) float64 {
	s := sorted(ds)
	if len(s) == 0 {
		return 0
	}
	return float64(s[len(s)-1]-s[0]) / float64(median(ds)) * 100
}

func ms0(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pairedDiffs(a, b []time.Duration) string {
	var parts []string
	for i := range a {
		if i < len(b) {
			parts = append(parts, fmt.Sprintf("%+.0f", float64(b[i]-a[i])/float64(time.Millisecond)))
		}
	}
	return "[" + strings.Join(parts, ", ") + "] ms"
}
