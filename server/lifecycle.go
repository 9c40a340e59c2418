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
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// clientCaps are the client capabilities the bridge looks at.
type clientCaps struct {
	workDoneProgress bool
	edits            bufsync.Capabilities
	showDocument     bool                      // window.showDocument.support (LSP 3.16)
	bridge           lspext.ClientCapabilities // experimental.claudeBridge
}

// initializeParams is the part of InitializeParams the bridge reads
// (lspext.DecodeLSP: the rest is ignored, null is absent). It is its own
// type because protocol.InitializeParams turns a null processId into 0 and
// lacks nothing else we need.
type initializeParams struct {
	RootURI          string                     `json:"rootUri,omitempty"`
	RootPath         string                     `json:"rootPath,omitempty"`
	WorkspaceFolders []protocol.WorkspaceFolder `json:"workspaceFolders,omitempty"`
	InitOptions      json.RawMessage            `json:"initializationOptions,omitempty"`
	Capabilities     struct {
		Window struct {
			WorkDoneProgress bool `json:"workDoneProgress,omitempty"`
			ShowDocument     struct {
				Support bool `json:"support,omitempty"`
			} `json:"showDocument,omitempty"`
		} `json:"window,omitempty"`
		// Absent means unsupported (LSP). Neovim 0.7 to 0.11 advertise
		// applyEdit but not documentChanges, though they apply versioned
		// edits; the bridge's own plugin advertises both.
		Workspace struct {
			ApplyEdit     bool `json:"applyEdit,omitempty"`
			WorkspaceEdit struct {
				DocumentChanges bool `json:"documentChanges,omitempty"`
			} `json:"workspaceEdit,omitempty"`
		} `json:"workspace,omitempty"`
		// LSPAny: what the editor can do beyond LSP, ours under claudeBridge
		// (bridgeCapabilities reads it).
		Experimental json.RawMessage `json:"experimental,omitempty"`
	} `json:"capabilities,omitempty"`
	ClientInfo *struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	} `json:"clientInfo,omitempty"`
}

// bridgeCapabilities reads capabilities.experimental.claudeBridge. It is
// lenient: experimental is anything an editor likes, and a capability it
// spells wrongly is one it does not have (initialize never fails over it).
func bridgeCapabilities(experimental json.RawMessage) lspext.ClientCapabilities {
	var exp struct {
		ClaudeBridge json.RawMessage `json:"claudeBridge"`
	}
	var caps lspext.ClientCapabilities
	if json.Unmarshal(experimental, &exp) == nil && len(exp.ClaudeBridge) > 0 {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(exp.ClaudeBridge, &fields)
		flag := func(name string) bool {
			var b bool
			return json.Unmarshal(fields[name], &b) == nil && b
		}
		caps.Permission = flag("permission")
		caps.Ask = flag("ask")
		caps.Plan = flag("plan")
		caps.ChecksEditVersions = flag("checksEditVersions")
		caps.ReviewEdit = flag("reviewEdit")
	}
	return caps
}

func (s *Server) initialize(raw json.RawMessage) (any, error) {
	var p initializeParams
	if len(raw) > 0 {
		if _, err := lspext.DecodeLSP(raw, &p); err != nil {
			return nil, invalidParams("initialize: %s", describeError(err, "params"))
		}
	}
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "initialize was already called")
	}
	s.mu.Unlock()

	// What the user should hear now rather than at their first task, said
	// once the editor has the initialize reply (see initialized).
	var notes []string
	u := decodeConfig("initializationOptions", p.InitOptions)
	if len(u.unknown) > 0 {
		s.log.Warn("initializationOptions: settings the bridge does not know are ignored", zap.Strings("settings", u.unknown))
	}
	if u.refused != "" {
		notes = append(notes, "claude-bridge: settings refused: "+u.refused+".")
	}
	settings := DefaultSettings().Merge(u.cfg)
	folders, problems := foldersFromInit(p.WorkspaceFolders, p.RootURI, p.RootPath)
	clientName := ""
	if p.ClientInfo != nil {
		clientName = p.ClientInfo.Name
	}
	bridge := bridgeCapabilities(p.Capabilities.Experimental)
	caps := clientCaps{
		workDoneProgress: p.Capabilities.Window.WorkDoneProgress,
		edits: bufsync.ClientCapabilities(p.Capabilities.Workspace.ApplyEdit,
			p.Capabilities.Workspace.WorkspaceEdit.DocumentChanges, clientName, bridge.ChecksEditVersions),
		showDocument: p.Capabilities.Window.ShowDocument.Support,
		bridge:       bridge,
	}
	// A bad rootUri that rootPath made up for is only logged.
	if len(problems) > 0 && (len(folders) == 0 || len(p.WorkspaceFolders) > 0) {
		what := "it is not used"
		if len(folders) == 0 {
			what = "tasks need a workspaceFolder until the editor adds one"
		}
		notes = append(notes, "claude-bridge: a workspace folder the editor sent cannot be used ("+strings.Join(problems, "; ")+"); "+what+".")
	}

	var auth *authManager
	if s.opts.Auth != nil {
		auth = newAuthManager(s, *s.opts.Auth, settings.Auth, u.authRefused)
		if err := auth.setupError(); err != nil {
			s.log.Warn("auth manager not started", zap.Error(err))
			notes = append(notes, "claude-bridge: "+err.Error())
		}
	}

	s.mu.Lock()
	s.settings = settings
	s.folders = folders
	s.caps = caps
	s.auth = auth
	s.state = stateInitialized
	s.greeting = notes
	s.mu.Unlock()
	s.bufs.carrier.SetCapabilities(caps.edits)
	s.mgr.Reconfigure(s.runnerConfig(settings, auth))
	if s.opts.SetLogLevel != nil && settings.LogLevel != "" {
		s.opts.SetLogLevel(string(settings.LogLevel))
	}
	client := "unknown"
	if p.ClientInfo != nil {
		client = p.ClientInfo.Name + " " + p.ClientInfo.Version
	}
	s.log.Info("initialized", zap.String("client", client), zap.Int("folders", len(folders)),
		zap.Bool("applyEdit", caps.edits.ApplyEdit), zap.Bool("documentChanges", caps.edits.DocumentChanges),
		zap.Bool("permission", caps.bridge.Permission), zap.Bool("ask", caps.bridge.Ask), zap.Bool("plan", caps.bridge.Plan), zap.Bool("reviewEdit", caps.bridge.ReviewEdit),
		zap.Bool("showDocument", caps.showDocument))
	for _, p := range problems {
		s.log.Warn("workspace folder not used", zap.String("problem", p))
	}

	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			ExecuteCommandProvider: &protocol.ExecuteCommandOptions{Commands: lspext.Commands},
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindIncremental,
				Save:      &protocol.SaveOptions{IncludeText: true},
			},
			Workspace: &protocol.ServerCapabilitiesWorkspace{
				WorkspaceFolders: &protocol.ServerCapabilitiesWorkspaceFolders{Supported: true, ChangeNotifications: true},
			},
		},
		ServerInfo: &protocol.ServerInfo{Name: "claude-bridge", Version: s.opts.Version},
	}, nil
}

// initialized handles the editor's initialized notification, which it
// sends once it has the initialize reply: the auth manager starts (its
// first check reports to the editor), and the user hears now, not at their
// first task, what would stop tasks: a claude CLI that cannot be found or
// is not executable, an unusable workspace folder, auth settings that were
// refused.
func (s *Server) initialized() {
	s.mu.Lock()
	auth, notes, again := s.auth, s.greeting, s.greeted
	s.greeted = true
	s.mu.Unlock()
	if auth != nil {
		auth.start()
	}
	s.warmFolders() // the auth manager has started: a warm claude's launch waits for it
	if again {
		return
	}
	go func() { // ends when the messages are queued; finding claude reads the file system
		// Only looked for, not run: a fork of the bridge carries the bridge's own
		// environment (a key in it included) until it execs, and a task may be
		// watched for that. A claude that fails says so in its first task's
		// failure and in claude.authStatus.
		if _, err := s.mgr.ClaudePath(); err != nil {
			s.ShowMessage(protocol.MessageTypeWarning, "claude-bridge: "+err.Error())
		}
		for _, n := range notes {
			s.ShowMessage(protocol.MessageTypeWarning, n)
		}
	}()
}

// runnerConfig turns settings into the runner's configuration.
func (s *Server) runnerConfig(st Settings, auth *authManager) runner.Config {
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
	c.Defaults = st.defaultOptions()
	if auth != nil {
		c.Auth = auth
	}
	if c.Log == nil {
		c.Log = s.log
	}
	if c.Checkpoints == nil {
		c.Checkpoints = s.checkpoints
		c.Snapshots = s.snapshots
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
// key helper, which must not hold the read loop. An auth change is noted
// here all the same: warm claudes are recycled at once, and what the
// runner asks of the auth manager from now on (a launch) waits until
// configLoop has applied it (authManager.settle). A setting the bridge
// refuses keeps its value, and the editor is told which and why; the
// others apply. Refused auth settings leave the bridge without a key.
func (s *Server) didChangeConfiguration(raw json.RawMessage) {
	var p struct {
		Settings *struct {
			ClaudeBridge json.RawMessage `json:"claudeBridge,omitempty"`
		} `json:"settings,omitempty"`
	}
	if _, err := lspext.DecodeLSP(raw, &p); err != nil {
		s.tell("window/showMessage", &protocol.ShowMessageParams{Type: protocol.MessageTypeError,
			Message: "claude-bridge: settings ignored: workspace/didChangeConfiguration: " + describeError(err, "params")})
		return
	}
	if p.Settings == nil || len(p.Settings.ClaudeBridge) == 0 {
		return
	}
	u := decodeConfig("settings.claudeBridge", p.Settings.ClaudeBridge)
	if len(u.unknown) > 0 {
		s.log.Warn("settings.claudeBridge: settings the bridge does not know are ignored", zap.Strings("settings", u.unknown))
	}
	if u.refused != "" {
		s.tell("window/showMessage", &protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: "claude-bridge: settings refused: " + u.refused + "."})
	}
	s.mu.Lock()
	s.settings = s.settings.Merge(u.cfg)
	st, auth := s.settings, s.auth
	s.mu.Unlock()
	s.mgr.Reconfigure(s.runnerConfig(st, auth))
	if s.opts.SetLogLevel != nil && u.cfg.LogLevel != nil {
		s.opts.SetLogLevel(string(*u.cfg.LogLevel))
	}
	if auth != nil && (u.cfg.Auth != nil || u.authRefused != nil) && !auth.unchanged(u.cfg.Auth, u.authRefused) {
		if auth.queue(s.configs, authChange{cfg: u.cfg.Auth, refused: u.authRefused}) {
			// Here, in the order of the editor's messages: from now on no
			// task takes a warm claude launched with the old key source
			// (its KeySourceGeneration is behind), and every launch waits
			// for the new settings (authManager.settle).
			s.mgr.RecycleWarm()
		} else {
			s.log.Warn("auth settings changes are piling up; this one is dropped")
			s.tell("window/showMessage", &protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: "claude-bridge: auth settings ignored: too many changes at once"})
		}
	}
	s.log.Info("configuration changed")
}

// authChange is an `auth` setting as it came: the settings, or why they
// were refused.
type authChange struct {
	cfg     *lspext.AuthConfiguration
	refused error
	gen     uint64 // its number among the changes received (authManager.queue)
}

// configLoop applies auth settings changes one at a time, in the order
// they came. It ends with the connection.
func (s *Server) configLoop(ctx context.Context) {
	for {
		select {
		case c := <-s.configs:
			s.mu.Lock()
			auth := s.auth
			s.mu.Unlock()
			auth.reconfigure(c)
			auth.done(c.gen)
			// Warm claudes launched with the old settings were recycled
			// when the change was read; retry at once where one failed.
			s.mgr.RecheckWarm()
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
	}
	// Leave no claude behind: after shutdown's reply this returns at once;
	// with exit right behind the shutdown request (its stop may still be
	// under way) or without one, it stops them.
	s.stopTasks()
	select {
	case s.exitCh <- code:
	default:
	}
}
