package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/stream"
	"github.com/claude-bridge/claude-bridge/server"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
)

// writeFakeClaude writes a claude stand-in that reads the two lines the
// bridge sends first (the initialize control request and the user
// message), writes the stream file to stdout, and then waits for stdin to
// close, as claude does after a result.
func writeFakeClaude(path, streamFile string) error {
	script := "#!/bin/sh\n" +
		"IFS= read -r _init || exit 1\n" +
		"IFS= read -r _user || exit 1\n" +
		"cat '" + strings.ReplaceAll(streamFile, "'", `'\''`) + "'\n" +
		"exec cat >/dev/null\n"
	return os.WriteFile(path, []byte(script), 0o755)
}

// streamSetup generates the stream file and the fake claude under dir.
func (b *bench) streamSetup(dir string) (*world, string, genStats, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", genStats{}, err
	}
	fake := filepath.Join(dir, "fake-claude")
	w, err := newWorld(dir, fake, "http://127.0.0.1:9")
	if err != nil {
		return nil, "", genStats{}, err
	}
	file := filepath.Join(dir, "stream.jsonl")
	st, err := generateStream(file, w.workspace, b.o.lines)
	if err != nil {
		return nil, "", genStats{}, err
	}
	if err := writeFakeClaude(fake, file); err != nil {
		return nil, "", genStats{}, err
	}
	return w, file, st, nil
}

// pipeLines is the baseline: `cat file | reader` in Go, the reader counting
// lines with runner/stream's Reader (decode: and decoding each one too).
func pipeLines(file string, decode bool) (time.Duration, int, error) {
	t0 := time.Now()
	cmd := exec.Command("cat", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	rd := stream.NewReader(out, 0)
	n := 0
	for {
		raw, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, n, err
		}
		if decode {
			if _, err := stream.Decode(raw); err != nil {
				return 0, n, err
			}
		}
		n++
	}
	if err := cmd.Wait(); err != nil {
		return 0, n, err
	}
	return time.Since(t0), n, nil
}

// bridgeStream runs one task through the bridge and times it from sending
// claude.run to the reply's arrival. check verifies it afterwards.
func (b *bench) bridgeStream(client *lsptest.Client, taskID string) (time.Duration, lsptest.Message, error) {
	t0 := time.Now()
	call := client.Start("workspace/executeCommand", map[string]any{
		"command":   "claude.run",
		"arguments": []any{map[string]any{"prompt": "stream the file", "taskId": taskID}},
	})
	m, err := call.Wait(b.o.timeoutEach)
	if err != nil {
		return 0, m, err
	}
	return m.At.Sub(t0), m, nil
}

// checkStream checks a stream task's reply, and that the editor received
// every event the file implies, numbered without gaps.
func checkStream(client *lsptest.Client, taskID string, m lsptest.Message, st genStats) error {
	if m.Error != nil {
		return fmt.Errorf("claude.run: error %d %s", m.Error.Code, m.Error.Message)
	}
	var rep taskReply
	if err := json.Unmarshal(m.Result, &rep); err != nil {
		return err
	}
	if rep.Status != "completed" || rep.Result != st.finalText {
		return fmt.Errorf("task %s: status %s, result %.80q", taskID, rep.Status, rep.Result)
	}
	evs, err := taskEvents(client, taskID)
	if err != nil {
		return err
	}
	var text strings.Builder
	others := 0
	for _, e := range evs {
		if e.Kind == "text" {
			text.WriteString(e.Text)
		} else {
			others++
		}
	}
	if others != st.otherEvents() || text.String() != st.allText.String() {
		return fmt.Errorf("task %s: the editor got %d other claude/event notifications (want %d) and %d of %d bytes of text (%s)",
			taskID, others, st.otherEvents(), text.Len(), st.allText.Len(), kindCounts(evs))
	}
	return nil
}

func kindCounts(evs []event) string {
	n := map[string]int{}
	var order []string
	for _, e := range evs {
		if n[e.Kind] == 0 {
			order = append(order, e.Kind)
		}
		n[e.Kind]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// measureStreamPath streams the generated file through the bridge (claude
// being the fake script) and through a plain pipe, alternating.
func (b *bench) measureStreamPath() error {
	fmt.Fprintf(os.Stderr, "bench: 3. the stream path, %d lines, %d runs each\n", b.o.lines, b.o.streamRuns)
	w, file, st, err := b.streamSetup(filepath.Join(b.tmp, "stream"))
	if err != nil {
		return err
	}
	p, _, err := startBridge(b.bridge, w, map[string]any{"followUpIdleSeconds": 0})
	if err != nil {
		return err
	}
	defer func() {
		if p != nil {
			p.kill()
		}
	}()
	// Warm-up, not counted: the file into the page cache.
	if _, n, err := pipeLines(file, false); err != nil || n != st.lines {
		return fmt.Errorf("pipe warm-up: %d lines of %d: %v", n, st.lines, err)
	}
	var pipe, decode, bridge []time.Duration
	var hwms []string
	for i := 0; i < b.o.streamRuns; i++ {
		d, n, err := pipeLines(file, false)
		if err != nil || n != st.lines {
			return fmt.Errorf("pipe: %d lines of %d: %v", n, st.lines, err)
		}
		pipe = append(pipe, d)
		id := fmt.Sprintf("stream-%d", i)
		bd, m, err := b.bridgeStream(p.client, id)
		if err == nil {
			err = checkStream(p.client, id, m, st)
		}
		if err != nil {
			return fmt.Errorf("%v (bridge stderr: %s)", err, p.stderr.String())
		}
		bridge = append(bridge, bd)
		dd, n, err := pipeLines(file, true)
		if err != nil || n != st.lines {
			return fmt.Errorf("pipe+decode: %d lines of %d: %v", n, st.lines, err)
		}
		decode = append(decode, dd)
		hwm, err := p.vmHWM()
		if err != nil {
			return err
		}
		hwms = append(hwms, fmt.Sprintf("%.1f", mb(hwm)))
		b.logf("stream run %d: pipe %s, bridge %s, pipe+decode %s; bridge VmHWM %.1f MB", i, secs(d), secs(bd), secs(dd), mb(hwm))
	}
	hwm, err := p.vmHWM()
	if err != nil {
		return err
	}
	b.hwm = append(b.hwm, hwmSample{what: fmt.Sprintf("stream path (3, %d tasks)", b.o.streamRuns), kB: hwm, streaming: true})
	b.notes = append(b.notes, fmt.Sprintf("4: stream-path bridge VmHWM after each of its tasks: %s MB (one bridge process serves them all, as an editor session does)", strings.Join(hwms, ", ")))
	err = p.stop()
	p = nil
	if err != nil {
		return err
	}
	pm, bm, dm := median(pipe), median(bridge), median(decode)
	ratio := float64(bm) / float64(pm)
	b.rows = append(b.rows, row{id: "3", what: fmt.Sprintf("stream path, %d lines: bridge to editor vs cat | line reader", st.lines),
		figure: fmt.Sprintf("median bridge %s, pipe %s (%.1fx)", secs(bm), secs(pm), ratio), target: "bridge < 2x pipe", met: ratio < 2})
	b.rows = append(b.rows, row{id: "3i", what: "  (for reference) cat | line reader + stream.Decode per line",
		figure: fmt.Sprintf("median %s (bridge = %.1fx this)", secs(dm), float64(bm)/float64(dm)), target: "-", na: true})
	b.notes = append(b.notes, fmt.Sprintf("3: %d lines, %.1f MB (%d text deltas, %d tool uses, %d tool results, %d turns); in every run the editor got every tool event and all %d bytes of text, the %d text deltas coalesced by the bridge into fewer events when it falls behind (%.0f lines/s at the median); bridge timed from sending claude.run to its reply (includes starting the fake claude, a shell script), pipe from exec of cat to its exit; bridge runs %s, pipe runs %s.",
		st.lines, float64(st.bytes)/(1<<20), st.textDeltas, st.toolUses, st.toolResults, st.turns, st.allText.Len(), st.textDeltas,
		float64(st.lines)/bm.Seconds(), spread(bridge), spread(pipe)))
	return nil
}

// profileStreamPath runs the stream path in process (server.New and Serve
// over OS pipes, the editor being lsptest): one warm-up task, then one task
// under the CPU profiler, then (with memOut) more tasks and a heap profile
// of what the server still holds after them.
func (b *bench) profileStreamPath(cpuOut, memOut string) error {
	dir := filepath.Join(b.tmp, "profile")
	w, file, st, err := b.streamSetup(dir)
	if err != nil {
		return err
	}
	srv := server.New(server.Options{
		Log:     zap.NewNop(),
		Version: "bench",
		Runner:  runner.Config{ClaudePath: filepath.Join(dir, "fake-claude"), Env: w.env, StopGrace: 2 * time.Second},
	})
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	done := make(chan int, 1)
	go func() {
		code := srv.Serve(context.Background(), inR, outW)
		outW.Close()
		done <- code
	}()
	client := lsptest.New(outR, inW)
	params := map[string]any{"processId": os.Getpid(), "rootUri": "file://" + w.workspace,
		"capabilities":          map[string]any{"window": map[string]any{"workDoneProgress": true}},
		"initializationOptions": map[string]any{"followUpIdleSeconds": 0}}
	if err := client.Request("initialize", params, nil, 10*time.Second); err != nil {
		return err
	}
	_ = client.Notify("initialized", map[string]any{})
	task := func(id string) (time.Duration, error) {
		d, m, err := b.bridgeStream(client, id)
		if err == nil {
			err = checkStream(client, id, m, st)
		}
		return d, err
	}
	if _, err := task("warm"); err != nil {
		return err
	}
	f, err := os.Create(cpuOut)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	d, _, err := b.bridgeStream(client, "profiled")
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	pd, _, err := pipeLines(file, false)
	if err != nil {
		return err
	}
	fmt.Printf("in-process stream path: %d lines, %d events in %s (pipe alone %s); CPU profile in %s\n", st.lines, st.events(), secs(d), secs(pd), cpuOut)
	fmt.Printf("  it holds the editor side (lsptest.(*Client).read) too: go tool pprof -top -cum %s\n", cpuOut)
	if memOut != "" {
		for i := 0; i < 3; i++ {
			if _, err := task(fmt.Sprintf("more-%d", i)); err != nil {
				return err
			}
		}
		// The editor side's record of every message is the bench's, not
		// the server's: the heap profile shows both; look for runner and
		// server frames.
		runtime.GC()
		mf, err := os.Create(memOut)
		if err != nil {
			return err
		}
		defer mf.Close()
		if err := pprof.Lookup("heap").WriteTo(mf, 0); err != nil {
			return err
		}
		fmt.Printf("heap profile after 5 tasks in %s: go tool pprof -sample_index=inuse_space -top %s\n", memOut, memOut)
	}
	_ = client.Request("shutdown", nil, nil, 20*time.Second)
	_ = client.Notify("exit", nil)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		return errors.New("the in-process server did not exit")
	}
	return nil
}
