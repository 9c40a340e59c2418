package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
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
// anything in the command folders changes (commandFolders).
type commandCache struct {
	mu      sync.Mutex // guards lists
	lists   map[string]cachedCommands
	general int // bumped by Reconfigure (read under mu)
}

type cachedCommands struct {
	list    CommandList
	general int
	stamp   string // commandFolders' stamp of the trees the list was read with
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

// commandFolders stamps the trees claude reads commands and skills from
// (.claude/commands and .claude/skills of the folder and of the user's
// home, every file and folder in them, nested ones included, by path, size
// and modification time), and returns the newest modification time among
// them: a file edited in place, added in a nested folder (/sub:name) or
// removed changes the stamp. Walking them is cheap (measured with -race
// off on a loaded 2-core machine: 76 µs for 10 files, 1.0 ms for 500;
// BenchmarkCommandFolders, in make bench), far below claude's own listing
// (about 1.5 s for a claude of its own), so the cache stays.
// A tree of more than maxCommandEntries entries is not walked further and
// gets a stamp of its own each time: its list is never served from the
// cache.
func commandFolders(workspace, home string) (stamp string, newest time.Time) {
	h := sha256.New()
	budget := maxCommandEntries
	for _, root := range []string{workspace, home} {
		if root == "" {
			continue
		}
		for _, sub := range []string{"commands", "skills"} {
			stampTree(h, filepath.Join(root, ".claude", sub), 0, &budget, &newest)
		}
	}
	if budget < 0 {
		now := time.Now()
		return "too many entries " + now.Format(time.RFC3339Nano), now
	}
	return hex.EncodeToString(h.Sum(nil)), newest
}

// maxCommandEntries bounds the entries commandFolders looks at.
const maxCommandEntries = 5000

// stampTree writes path's size and modification time to h, and those of
// everything below it when it is a folder (followed through symbolic
// links, at most 16 levels deep), counting the entries down from budget.
func stampTree(h io.Writer, path string, depth int, budget *int, newest *time.Time) {
	*budget--
	fi, err := os.Stat(path)
	if err != nil || *budget < 0 {
		fmt.Fprintf(h, "%s\x00-\n", path)
		return
	}
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%v\n", path, fi.Size(), fi.ModTime().UnixNano(), fi.IsDir())
	if fi.ModTime().After(*newest) {
		*newest = fi.ModTime()
	}
	if !fi.IsDir() || depth >= 16 {
		return
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return
	}
	for _, e := range entries {
		stampTree(h, filepath.Join(path, e.Name()), depth+1, budget, newest)
		if *budget < 0 {
			return
		}
	}
}

// liveCommands is the list of a live claude process in the folder that
// started after the command folders last changed. Not one that answered
// initialize after the change: claude may read the folders before it
// answers (a claude that read them, then a command file was written, then
// it answered, lists the old commands: seen 1 in 11 runs with a file
// written 1.8 s after initialize).
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
		if raw := s.initAnswer(); raw != nil && s.spawned.After(foldersChanged) {
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
	probe := &Task{ID: "commands", Spec: Spec{Workspace: workspace, Options: opts}, mgr: m, log: cfg.Log.With(zap.String("for", "commands")), ctx: ctx, obs: probeObserver{}}
	// Not the folder's warm claude: its answer to initialize is found
	// among the live ones (Commands), and it stays for a task.
	s, how, _, err := m.pool.acquire(ctx, want{workspace: workspace, opts: opts, noWarm: true}, probe.launcher(cfg))
	reused := how == acquiredIdle
	if err != nil {
		return CommandList{}, fmt.Errorf("could not start claude to list its commands: %w", err)
	}
	defer m.pool.release(s, reused) // a process started for this goes; one borrowed goes back
	if s.initialized(ctx) == nil && ctx.Err() != nil {
		return CommandList{}, fmt.Errorf("claude did not list its commands within %s", commandsWait)
	}
	raw := s.initAnswer()
	if raw == nil {
		return CommandList{}, errors.New("claude exited before it listed its commands: " + s.proc.stderr.lastLines(3))
	}
	return parseCommands(raw)
}

// initAnswer is claude's successful answer to initialize
// (nil until it has, or when claude answered with an error).
func (s *session) initAnswer() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initResp == nil || s.initResp.Subtype != "success" {
		return nil
	}
	return s.initResp.Response
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

// probeObserver is the observer of a task that only lends its launcher:
// what the launch says ("Starting claude") goes nowhere, and it never asks.
type probeObserver struct{}

func (probeObserver) Event(*Task, Event) {}
func (probeObserver) AskPermission(context.Context, *Task, PermissionRequest) (Decision, string) {
	return Deny, "no task asked"
}
