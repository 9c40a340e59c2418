package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// claude's slash commands, as it lists them in its answer to the
// initialize control request (measured on 2.1.332, about 1.5 s after the
// process starts, without any API request): {"commands": [{"name",
// "description", "argumentHint", "builtin"?: true, "aliases"?: [...]}],
// "models": [{"value", "displayName", "description", "resolvedModel", …}],
// …}. The project's commands (.claude/commands/*.md in the folder) and the
// user's (~/.claude/commands/*.md) carry no "builtin" and end their
// description with " (project)" or " (user)". A prompt that starts with
// "/" runs the command: a custom command's text (with $ARGUMENTS) goes to
// the model as the prompt, a built-in such as /context answers without an
// API request, /compact compacts; an unknown one is passed to the model as
// a plain request with a reminder that no such command exists.

// SlashCommand is one of claude's slash commands.
type SlashCommand struct {
	Name         string
	Description  string
	ArgumentHint string
	Source       string // builtin, project, user or custom
	Aliases      []string
}

// Model is a model claude offers.
type Model struct {
	Value       string // what --model and set_model take ("sonnet")
	DisplayName string
	Description string
}

// CommandList is what claude offers in a folder.
type CommandList struct {
	Commands []SlashCommand
	Models   []Model
}

// commandsWait bounds how long Commands waits for a claude of its own.
const commandsWait = 30 * time.Second

// commandCache keeps a folder's command list until the configuration or
// the command folders change.
type commandCache struct {
	mu      sync.Mutex // guards lists
	lists   map[string]cachedCommands
	general int // bumped by Reconfigure (read under mu)
}

type cachedCommands struct {
	list    CommandList
	general int
	stamp   string // the command folders' modification times
}

// Commands lists claude's slash commands and models for a folder: from
// the answer to initialize of a claude process already alive there (idle,
// running, or started ahead of time) when its command folders have not
// changed since, else from a claude started for the purpose with opts and
// stopped at once (it makes no API request), bounded by commandsWait. The
// list is cached per folder until the configuration or a command folder
// changes.
func (m *Manager) Commands(ctx context.Context, workspace string, opts Options) (CommandList, error) {
	stamp, newest := commandFolders(workspace, m.ClaudeHome())
	c := &m.commands
	c.mu.Lock()
	general := c.general
	if got, ok := c.lists[workspace]; ok && got.general == general && got.stamp == stamp {
		c.mu.Unlock()
		return got.list, nil
	}
	c.mu.Unlock()
	list, err := m.liveCommands(workspace, newest)
	if err != nil {
		list, err = m.commandsOfNewClaude(ctx, workspace, opts)
	}
	if err != nil {
		return CommandList{}, err
	}
	c.mu.Lock()
	if c.lists == nil {
		c.lists = map[string]cachedCommands{}
	}
	c.lists[workspace] = cachedCommands{list: list, general: general, stamp: stamp}
	c.mu.Unlock()
	return list, nil
}

// forgetCommands drops the cached lists (the configuration changed).
func (c *commandCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.general++
	c.lists = nil
}

// commandFolders stamps the folders claude reads commands and skills from
// (the folder's and the user's .claude/commands and .claude/skills) with
// their modification times, and returns the newest.
func commandFolders(workspace, home string) (stamp string, newest time.Time) {
	var parts []string
	for _, root := range []string{workspace, home} {
		if root == "" {
			continue
		}
		for _, sub := range []string{"commands", "skills"} {
			fi, err := os.Stat(filepath.Join(root, ".claude", sub))
			if err != nil {
				parts = append(parts, "-")
				continue
			}
			parts = append(parts, fi.ModTime().UTC().Format(time.RFC3339Nano))
			if fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
		}
	}
	return strings.Join(parts, "|"), newest
}

// liveCommands is the list of a live claude process in the folder that
// answered initialize after the command folders last changed.
func (m *Manager) liveCommands(workspace string, foldersChanged time.Time) (CommandList, error) {
	m.pool.mu.Lock()
	var live []*session
	for s, sl := range m.pool.live {
		if sl.state != slotStopping && s.workspace == workspace {
			live = append(live, s)
		}
	}
	m.pool.mu.Unlock()
	for _, s := range live {
		if raw, at := s.initialized(); raw != nil && at.After(foldersChanged) {
			return parseCommands(raw)
		}
	}
	return CommandList{}, errors.New("no live claude process in the folder")
}

// commandsOfNewClaude starts a claude in the folder (within the pool's
// slots, like any task's), waits for its answer to initialize and stops it.
func (m *Manager) commandsOfNewClaude(ctx context.Context, workspace string, opts Options) (CommandList, error) {
	ctx, cancel := context.WithTimeout(ctx, commandsWait)
	defer cancel()
	cfg := m.cfg()
	opts.ResumeSession = ""
	// A task that never runs lends its launcher (argv, environment, auth).
	probe := &Task{ID: "commands", Spec: Spec{Workspace: workspace, Options: opts}, mgr: m, log: cfg.Log.With(zap.String("for", "commands")), ctx: ctx}
	s, reused, err := m.pool.acquire(ctx, want{workspace: workspace, opts: opts}, probe.launcher(cfg))
	if err != nil {
		return CommandList{}, fmt.Errorf("could not start claude to list its commands: %w", err)
	}
	defer m.pool.release(s, reused) // a process started for this goes; one borrowed goes back
	select {
	case <-s.initDone:
	case <-ctx.Done():
		return CommandList{}, fmt.Errorf("claude did not list its commands within %s", commandsWait)
	}
	raw, _ := s.initialized()
	if raw == nil {
		return CommandList{}, errors.New("claude exited before it listed its commands: " + s.proc.stderr.lastLines(3))
	}
	return parseCommands(raw)
}

// awaitInitialize sends the initialize control request claude's SDKs open
// with and keeps claude's answer (its commands and models). Its goroutine
// ends when claude answers or is gone.
func (s *session) awaitInitialize() {
	reply := make(chan *stream.ControlResponse, 1)
	// The hooks of the review setting (review.go) are registered here, on
	// every claude.
	if err := s.sendControl(map[string]any{"subtype": "initialize", "hooks": hooksConfig()}, reply); err != nil {
		close(s.initDone)
		return
	}
	go func() {
		r, ok := <-reply
		s.mu.Lock()
		if ok && r != nil && r.Subtype == "success" {
			s.initResp, s.initAt = r.Response, time.Now()
		}
		s.mu.Unlock()
		close(s.initDone)
	}()
}

// initialized is claude's answer to initialize and when it came (nil until
// it has).
func (s *session) initialized() (json.RawMessage, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initResp, s.initAt
}

var sourceSuffix = regexp.MustCompile(`\s*\((project|user)\)$`)

// parseCommands reads claude's answer to initialize.
func parseCommands(raw json.RawMessage) (CommandList, error) {
	var r struct {
		Commands []struct {
			Name         string   `json:"name"`
			Description  string   `json:"description"`
			ArgumentHint string   `json:"argumentHint"`
			Builtin      bool     `json:"builtin"`
			Aliases      []string `json:"aliases"`
		} `json:"commands"`
		Models []struct {
			Value       string `json:"value"`
			DisplayName string `json:"displayName"`
			Description string `json:"description"`
		} `json:"models"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return CommandList{}, fmt.Errorf("claude's command list: %v", err)
	}
	var out CommandList
	for _, c := range r.Commands {
		if c.Name == "" || strings.HasPrefix(c.Name, "__") {
			continue // claude's internal commands
		}
		sc := SlashCommand{Name: c.Name, Description: c.Description, ArgumentHint: c.ArgumentHint, Aliases: c.Aliases, Source: "custom"}
		switch m := sourceSuffix.FindStringSubmatch(c.Description); {
		case c.Builtin:
			sc.Source = "builtin"
		case m != nil:
			sc.Source = m[1]
			sc.Description = strings.TrimSpace(c.Description[:len(c.Description)-len(m[0])])
		}
		out.Commands = append(out.Commands, sc)
	}
	for _, mo := range r.Models {
		out.Models = append(out.Models, Model{Value: mo.Value, DisplayName: mo.DisplayName, Description: mo.Description})
	}
	return out, nil
}
