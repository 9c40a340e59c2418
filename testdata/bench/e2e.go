package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// keyHelperCommand waits until the bridge has written a settings file for
// claude (its first launch; prewarm launches one after initialized) and
// returns the file's apiKeyHelper: the command line claude runs. The file
// is in the bridge's runtime directory, which is under XDG_STATE_HOME (the
// world sets no XDG_RUNTIME_DIR).
func (p *bridgeProc) keyHelperCommand(w *world, timeout time.Duration) (string, error) {
	pattern := filepath.Join(w.logDir, "claude-bridge", "run", fmt.Sprintf("%d-*", p.pid()), "settings-*.json")
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			var settings struct {
				APIKeyHelper string `json:"apiKeyHelper"`
			}
			if b, err := os.ReadFile(f); err == nil && json.Unmarshal(b, &settings) == nil && settings.APIKeyHelper != "" {
				return settings.APIKeyHelper, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no settings file with an apiKeyHelper (%s) within %s (bridge stderr: %s)", pattern, timeout, p.stderr.String())
		}
	}
}

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
	// The helper alone, run as claude runs it: the apiKeyHelper command line
	// of a running bridge's settings file (the helper reads that bridge's
	// configuration, named on the line, and refuses to run without it).
	p, _, err := startBridge(b.bridge, w, map[string]any{})
	if err != nil {
		return err
	}
	defer p.kill()
	helper, err := p.keyHelperCommand(w, 30*time.Second)
	if err != nil {
		return err
	}
	var hs []time.Duration
	for i := 0; i < 10; i++ {
		cmd := exec.Command("/bin/sh", "-c", helper)
		cmd.Env = w.env
		cmd.Dir = w.workspace
		t0 := time.Now()
		out, err := cmd.Output()
		if err != nil || !bytes.Contains(out, []byte(benchKey)) {
			return fmt.Errorf("running the bridge's key helper %s: %v", helper, err)
		}
		hs = append(hs, time.Since(t0))
	}
	if err := p.stop(); err != nil {
		return err
	}
	b.rows = append(b.rows, row{id: "1h", what: "  (for reference) one run of the bridge's key helper script", figure: "median " + ms(median(hs)), target: "-", na: true})
	return nil
}
