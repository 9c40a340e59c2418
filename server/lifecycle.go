package server

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/bufsync"
)

// Commands are the workspace/executeCommand commands the bridge serves.
var Commands = []string{"claude.run", "claude.cancel", "claude.followUp", "claude.tasks", "claude.authStatus"}

// clientCaps are the client capabilities the bridge looks at.
type clientCaps struct {
	workDoneProgress bool
	edits            bufsync.Capabilities
}

// initializeParams is the part of InitializeParams the bridge reads. It is
// decoded by hand because protocol.InitializeParams turns a null processId
// into 0 and lacks nothing else we need.
type initializeParams struct {
	RootURI          string                     `json:"rootUri"`
	RootPath         string                     `json:"rootPath"`
	WorkspaceFolders []protocol.WorkspaceFolder `json:"workspaceFolders"`
	InitOptions      json.RawMessage            `json:"initializationOptions"`
	Capabilities     struct {
		Window struct {
			WorkDoneProgress bool `json:"workDoneProgress"`
		} `json:"window"`
		// Absent means unsupported (LSP). Neovim 0.7 to 0.11 advertise
		// applyEdit but not documentChanges, though they apply versioned
		// edits; the bridge's own plugin advertises both.
		Workspace struct {
			ApplyEdit     bool `json:"applyEdit"`
			WorkspaceEdit struct {
				DocumentChanges bool `json:"documentChanges"`
			} `json:"workspaceEdit"`
		} `json:"workspace"`
	} `json:"capabilities"`
	ClientInfo *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"clientInfo"`
}

func (s *Server) initialize(raw json.RawMessage) (any, error) {
	var p initializeParams
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, invalidParams("initialize: %v", err)
		}
	}
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "initialize was already called")
	}
	s.mu.Unlock()

	cfg, err := decodeConfig(p.InitOptions)
	if err != nil {
		return nil, invalidParams("%v", err)
	}
	settings, err := DefaultSettings().Merge(cfg)
	if err != nil {
		return nil, invalidParams("initializationOptions: %v", err)
	}
	folders, problems := foldersFromInit(p.WorkspaceFolders, p.RootURI, p.RootPath)
	caps := clientCaps{
		workDoneProgress: p.Capabilities.Window.WorkDoneProgress,
		edits: bufsync.Capabilities{
			ApplyEdit:       p.Capabilities.Workspace.ApplyEdit,
			DocumentChanges: p.Capabilities.Workspace.WorkspaceEdit.DocumentChanges,
		},
	}

	var auth AuthService
	if s.opts.NewAuth != nil {
		ctx, raw := s.connCtx, settings.Auth
		auth = startLazyAuth(func() (AuthService, error) {
			a, err := s.opts.NewAuth(ctx, raw, authNotifier{s})
			if err != nil {
				s.log.Warn("auth manager not started", zap.Error(err))
				s.ShowMessage(protocol.MessageTypeError, "claude-bridge: authentication is not set up: "+err.Error())
			}
			return a, err
		})
	}

	s.mu.Lock()
	s.settings = settings
	s.folders = folders
	s.caps = caps
	s.auth = auth
	s.state = stateInitialized
	s.mu.Unlock()
	s.bufs.carrier.SetCapabilities(caps.edits)
	s.mgr.Reconfigure(s.runnerConfig(settings, auth))
	if s.opts.SetLogLevel != nil && settings.LogLevel != "" {
		s.opts.SetLogLevel(settings.LogLevel)
	}
	client := "unknown"
	if p.ClientInfo != nil {
		client = p.ClientInfo.Name + " " + p.ClientInfo.Version
	}
	s.log.Info("initialized", zap.String("client", client), zap.Int("folders", len(folders)),
		zap.Bool("applyEdit", caps.edits.ApplyEdit), zap.Bool("documentChanges", caps.edits.DocumentChanges))
	for _, p := range problems {
		s.log.Warn("workspace folder not used", zap.String("problem", p))
	}

	// Tell the user now, not at their first task, if claude is missing or
	// the key cannot work. Off the read loop: these are notifications that
	// should follow the initialize reply.
	go func() {
		time.Sleep(10 * time.Millisecond)
		if _, err := s.mgr.ClaudePath(); err != nil {
			s.ShowMessage(protocol.MessageTypeWarning, "claude-bridge: "+err.Error())
		}
		// A bad rootUri that rootPath made up for is only logged.
		if len(problems) > 0 && (len(folders) == 0 || len(p.WorkspaceFolders) > 0) {
			what := "it is not used"
			if len(folders) == 0 {
				what = "tasks need a workspaceFolder until the editor adds one"
			}
			s.ShowMessage(protocol.MessageTypeWarning, "claude-bridge: a workspace folder the editor sent cannot be used ("+strings.Join(problems, "; ")+"); "+what+".")
		}
	}()

	return map[string]any{
		"capabilities": map[string]any{
			"executeCommandProvider": map[string]any{"commands": Commands},
			"textDocumentSync": map[string]any{
				"openClose": true,
				"change":    protocol.TextDocumentSyncKindIncremental,
				"save":      map[string]any{"includeText": true},
			},
			"workspace": map[string]any{
				"workspaceFolders": map[string]any{"supported": true, "changeNotifications": true},
			},
		},
		"serverInfo": map[string]any{"name": "claude-bridge", "version": s.opts.Version},
	}, nil
}

// runnerConfig turns settings into the runner's configuration.
func (s *Server) runnerConfig(st Settings, auth AuthService) runner.Config {
	c := s.opts.Runner
	if st.ClaudePath != "" {
		c.ClaudePath = st.ClaudePath
	}
	c.MaxConcurrent = st.MaxConcurrentTasks
	c.MaxIdle = st.MaxIdleProcesses
	if c.MaxIdle == 0 {
		c.MaxIdle = -1 // none kept; the runner's zero is its default
	} else if c.MaxIdle < 0 {
		c.MaxIdle = 0 // the default: as many as maxConcurrentTasks
	}
	switch {
	case st.FollowUpIdleSeconds > 0:
		c.FollowUpIdle = time.Duration(st.FollowUpIdleSeconds) * time.Second
	default:
		c.FollowUpIdle = -1
	}
	c.Prewarm = st.Prewarm
	c.Defaults = runner.Options{Model: st.Model, PermissionMode: st.PermissionMode, AllowedTools: st.AllowedTools, DisallowedTools: st.DisallowedTools}
	if auth != nil {
		c.Auth = auth
	}
	if c.Log == nil {
		c.Log = s.log
	}
	return c
}

// warmFolders tells the runner which folders get a warm claude (the
// editor's, in its order): after initialized, and whenever they change.
// The runner starts them in the background, within its budgets, with the
// options a claude.run gets when it names none (Server.spec); setting
// prewarm false stops them.
func (s *Server) warmFolders() {
	folders := s.folderList()
	paths := make([]string, len(folders))
	for i, f := range folders {
		paths[i] = f.Path
	}
	s.mgr.SetFolders(paths)
}

// didChangeConfiguration applies new settings on the read loop, in order
// (they are in memory: a claude.run right after sees them), and hands auth
// settings to configLoop: the auth manager may be starting or running its
// key helper, which must not hold the read loop.
func (s *Server) didChangeConfiguration(raw json.RawMessage) {
	var p struct {
		Settings struct {
			ClaudeBridge json.RawMessage `json:"claudeBridge"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || len(p.Settings.ClaudeBridge) == 0 {
		return
	}
	cfg, err := decodeConfig(p.Settings.ClaudeBridge)
	if err == nil {
		s.mu.Lock()
		var st Settings
		st, err = s.settings.Merge(cfg)
		if err == nil {
			s.settings = st
		}
		s.mu.Unlock()
	}
	if err != nil {
		s.tell("window/showMessage", &protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: "claude-bridge: settings ignored: " + err.Error()})
		return
	}
	s.mu.Lock()
	st, auth := s.settings, s.auth
	s.mu.Unlock()
	s.mgr.Reconfigure(s.runnerConfig(st, auth))
	if s.opts.SetLogLevel != nil && cfg.LogLevel != nil {
		s.opts.SetLogLevel(*cfg.LogLevel)
	}
	if auth != nil && len(cfg.Auth) > 0 {
		select {
		case s.configs <- cfg.Auth:
		default:
			s.log.Warn("auth settings changes are piling up; this one is dropped")
			s.tell("window/showMessage", &protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: "claude-bridge: auth settings ignored: too many changes at once"})
		}
	}
	s.log.Info("configuration changed")
}

// configLoop applies auth settings changes one at a time, in the order
// they came. It ends with the connection.
func (s *Server) configLoop(ctx context.Context) {
	for {
		select {
		case raw := <-s.configs:
			s.mu.Lock()
			auth := s.auth
			s.mu.Unlock()
			if err := auth.Reconfigure(raw); err != nil {
				s.ShowMessage(protocol.MessageTypeError, "claude-bridge: auth settings ignored: "+err.Error())
			}
			s.mgr.RecycleWarm() // warm claudes were launched with the old auth settings
		case <-ctx.Done():
			return
		}
	}
}

// shutdown cancels every task and replies once their processes are gone.
func (s *Server) shutdown() (any, error) {
	s.mu.Lock()
	s.state = stateShutdown
	s.shutdownOK = true
	s.mu.Unlock()
	s.stopTasks()
	return nil, nil
}

func (s *Server) exit() {
	s.mu.Lock()
	ok := s.shutdownOK
	s.mu.Unlock()
	code := 1
	if ok {
		code = 0
	} else {
		// exit without shutdown: still leave no claude behind.
		s.stopTasks()
	}
	select {
	case s.exitCh <- code:
	default:
	}
}

// authNotifier relays the auth manager's news to the editor.
type authNotifier struct{ s *Server }

func (n authNotifier) ShowMessage(typ protocol.MessageType, msg string) { n.s.ShowMessage(typ, msg) }

func (n authNotifier) AuthChanged(status, source, fingerprint string) {
	n.s.mgr.RecheckWarm() // a warm claude holds the key it got at its start
	n.s.notify("claude/authChanged", map[string]any{"status": status, "source": source, "fingerprint": fingerprint})
}
