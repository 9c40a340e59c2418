package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspstream"
)

// requestCancelled is LSP's RequestCancelled code (-32800), which jsonrpc2
// v0.10 does not define.
const requestCancelled jsonrpc2.Code = -32800

// maxRequests bounds the requests served at once; past it the bridge
// answers "busy" instead of blocking the read loop.
const maxRequests = 256

// shutdownWait is how long shutdown and a closed stdin wait for claude
// processes before killing them outright.
const shutdownWait = 9 * time.Second

// Options wire a Server to the rest of the bridge.
type Options struct {
	Log     *zap.Logger
	Version string
	// Runner is the base runner configuration (environment, stop grace);
	// the editor's settings fill in the rest.
	Runner runner.Config
	// NewAuth makes the auth manager from the editor's auth settings; nil
	// runs claude with its own authentication.
	NewAuth AuthFactory
	// SetLogLevel changes the log file's level when the editor asks.
	SetLogLevel func(level string)
}

type serverState int

const (
	stateNew serverState = iota
	stateInitialized
	stateShutdown
)

// Server is one editor connection.
type Server struct {
	opts Options
	log  *zap.Logger

	conn    jsonrpc2.Conn
	stream  *lspstream.Stream
	connCtx context.Context // ends when the connection does
	sem     chan struct{}
	exitCh  chan int

	mgr  *runner.Manager
	bufs *buffers

	mu       sync.Mutex // guards the fields below
	state    serverState
	settings Settings
	folders  []Folder
	caps     clientCaps
	auth     AuthService
	inflight map[string]context.CancelFunc // by request id
	// The task ids and progress tokens a claude.run or claude.followUp
	// request names, from the moment it is read until it is answered: a
	// cancel that overtakes the task's start still finds it.
	reservedTasks  map[string]context.CancelFunc
	reservedTokens map[string]context.CancelFunc
	tasks          map[string]*taskView // running tasks by id
	tokens         map[string]string    // progress token → task id
	shutdownOK     bool
}

// New makes a Server.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	s := &Server{
		opts:           opts,
		log:            opts.Log,
		sem:            make(chan struct{}, maxRequests),
		exitCh:         make(chan int, 1),
		settings:       DefaultSettings(),
		inflight:       map[string]context.CancelFunc{},
		reservedTasks:  map[string]context.CancelFunc{},
		reservedTokens: map[string]context.CancelFunc{},
		tasks:          map[string]*taskView{},
		tokens:         map[string]string{},
	}
	s.mgr = runner.NewManager(s.runnerConfig(s.settings, nil))
	s.bufs = newBuffers(s)
	return s
}

// Serve speaks JSON-RPC on r and w until the editor sends exit or closes
// its end. It returns the process exit code.
func (s *Server) Serve(ctx context.Context, r io.Reader, w io.Writer) int {
	st := lspstream.New(r, w, lspstream.Options{OnBad: func(err error) {
		s.log.Warn("refused a malformed message", zap.Error(err))
	}})
	// What was sent before exit (the shutdown reply, last events) reaches
	// the editor before the process ends.
	defer st.Flush(2 * time.Second)
	s.stream = st
	s.conn = jsonrpc2.NewConn(st)
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.connCtx = connCtx
	s.conn.Go(connCtx, s.handle)
	select {
	case code := <-s.exitCh:
		s.closeAll()
		return code
	case <-ctx.Done():
		// SIGTERM or SIGINT: the editor (or the user) wants the bridge gone.
		s.log.Info("stopping on a signal; cancelling every task")
		s.stopTasks()
		s.closeAll()
		return 1
	case <-s.conn.Done():
		cancel()
		s.log.Info("the editor closed the connection; cancelling every task", zap.Error(s.conn.Err()))
		s.stopTasks()
		s.closeAll()
		s.mu.Lock()
		ok := s.shutdownOK
		s.mu.Unlock()
		if ok {
			return 0
		}
		return 1
	}
}

// stopTasks cancels every task and waits (bounded) for claude to be gone.
func (s *Server) stopTasks() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := s.mgr.Shutdown(ctx); err != nil {
		s.log.Warn("claude processes did not stop in time; killing them", zap.Error(err))
		s.mgr.Kill()
	}
}

func (s *Server) closeAll() {
	s.bufs.close()
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a != nil {
		_ = a.Close()
	}
}

// handle is called on the read loop for every message.
func (s *Server) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
	switch r := req.(type) {
	case *jsonrpc2.Notification:
		s.safeNotification(r.Method(), r.Params())
		return nil
	case *jsonrpc2.Call:
		s.serveCall(r, reply)
	}
	return nil
}

func (s *Server) safeNotification(method string, params json.RawMessage) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in notification handler", zap.String("method", method), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
		}
	}()
	s.notification(method, params)
}

// serveCall runs a request on its own goroutine, except initialize, which
// must be done before the notifications that follow it are handled.
func (s *Server) serveCall(call *jsonrpc2.Call, reply jsonrpc2.Replier) {
	method, id := call.Method(), call.ID()
	key := idKey(id)
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch {
	case method == "initialize":
		res, err := s.guard(method, func() (any, error) { return s.initialize(call.Params()) })
		s.reply(reply, res, err)
		return
	case state == stateNew:
		s.reply(reply, nil, jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "the server is not initialized: send initialize first"))
		return
	case state == stateShutdown && method != "shutdown":
		s.reply(reply, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "the server is shutting down"))
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		s.reply(reply, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "the server is busy: %d requests in flight", maxRequests))
		return
	}
	ctx, cancel := context.WithCancel(s.connCtx)
	taskID, token := namedTask(method, call.Params())
	s.mu.Lock()
	s.inflight[key] = cancel
	if taskID != "" {
		s.reservedTasks[taskID] = cancel
	}
	if token != "" {
		s.reservedTokens[token] = cancel
	}
	s.mu.Unlock()
	go func() {
		defer func() { <-s.sem }()
		defer func() {
			s.mu.Lock()
			delete(s.inflight, key)
			if taskID != "" {
				delete(s.reservedTasks, taskID)
			}
			if token != "" {
				delete(s.reservedTokens, token)
			}
			s.mu.Unlock()
			cancel()
		}()
		res, err := s.guard(method, func() (any, error) { return s.request(ctx, method, call.Params()) })
		if err == nil && ctx.Err() != nil && s.connCtx.Err() == nil && !cancelAware(method) {
			err = jsonrpc2.Errorf(requestCancelled, "request cancelled")
		}
		s.reply(reply, res, err)
	}()
}

// namedTask reads, on the read loop, the task id and progress token a
// claude.run or claude.followUp request gives (either may be "").
func namedTask(method string, params json.RawMessage) (taskID, token string) {
	if method != "workspace/executeCommand" {
		return "", ""
	}
	var p struct {
		Command   string `json:"command"`
		Arguments []struct {
			TaskID    string `json:"taskId"`
			NewTaskID string `json:"newTaskId"`
		} `json:"arguments"`
		WorkDoneToken json.RawMessage `json:"workDoneToken"`
	}
	if json.Unmarshal(params, &p) != nil || len(p.Arguments) == 0 {
		return "", ""
	}
	switch p.Command {
	case "claude.run":
		taskID = p.Arguments[0].TaskID
	case "claude.followUp":
		taskID = p.Arguments[0].NewTaskID
	default:
		return "", ""
	}
	if len(p.WorkDoneToken) > 0 && string(p.WorkDoneToken) != "null" {
		token = rawIDKey(p.WorkDoneToken)
	}
	return taskID, token
}

// cancelAware methods answer a cancel with a normal result of their own
// (claude.run: status "cancelled").
func cancelAware(method string) bool { return method == "workspace/executeCommand" }

// guard turns a panic into a -32603 reply, so one bad request cannot take the
// server down.
func (s *Server) guard(method string, f func() (any, error)) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in request handler", zap.String("method", method), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			res, err = nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v", method, p)
		}
	}()
	return f()
}

func (s *Server) reply(reply jsonrpc2.Replier, res any, err error) {
	if err != nil {
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) {
			err = jsonrpc2.Errorf(jsonrpc2.InternalError, "%s", err.Error())
		}
	}
	// Never the request's ctx: the reply to a cancelled request must still go out.
	if werr := reply(context.Background(), res, err); werr != nil {
		s.log.Debug("reply not delivered", zap.Error(werr))
	}
}

// request dispatches one request by method.
func (s *Server) request(ctx context.Context, method string, params json.RawMessage) (any, error) {
	switch method {
	case "shutdown":
		return s.shutdown()
	case "workspace/executeCommand":
		var p struct {
			Command       string            `json:"command"`
			Arguments     []json.RawMessage `json:"arguments"`
			WorkDoneToken json.RawMessage   `json:"workDoneToken"`
		}
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, invalidParams("workspace/executeCommand: %v", err)
		}
		return s.executeCommand(ctx, p.Command, p.Arguments, p.WorkDoneToken)
	}
	return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not supported: %s", method)
}

// notification dispatches one notification by method, on the read loop.
func (s *Server) notification(method string, params json.RawMessage) {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if method == "exit" {
		s.exit()
		return
	}
	if state == stateNew {
		s.log.Debug("notification before initialize dropped", zap.String("method", method))
		return
	}
	switch method {
	case "initialized":
	case "$/cancelRequest":
		s.cancelRequest(params)
	case "window/workDoneProgress/cancel":
		s.cancelProgress(params)
	case "workspace/didChangeConfiguration":
		s.didChangeConfiguration(params)
	case "workspace/didChangeWorkspaceFolders":
		s.didChangeWorkspaceFolders(params)
	case "textDocument/didOpen":
		s.bufs.didOpen(params)
	case "textDocument/didChange":
		s.bufs.didChange(params)
	case "textDocument/didClose":
		s.bufs.didClose(params)
	case "textDocument/didSave":
		s.bufs.didSave(params)
	default:
		s.log.Debug("notification ignored", zap.String("method", method))
	}
}

// cancelRequest handles $/cancelRequest itself: protocol.CancelHandler
// cannot cancel numeric ids, which is what editors send.
func (s *Server) cancelRequest(params json.RawMessage) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	key := rawIDKey(p.ID)
	s.mu.Lock()
	cancel := s.inflight[key]
	s.mu.Unlock()
	if cancel != nil {
		s.log.Debug("request cancelled by the editor", zap.String("id", key))
		cancel()
	}
}

// idKey and rawIDKey give a request id one spelling, whether it came as
// 5, 5.0 or "5" (numbers and strings stay distinct).
func idKey(id jsonrpc2.ID) string {
	b, _ := json.Marshal(&id)
	return rawIDKey(b)
}

func rawIDKey(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case float64:
		return strconv.FormatInt(int64(x), 10)
	case string:
		return strconv.Quote(x)
	}
	return string(raw)
}

// notify sends a notification to the editor.
func (s *Server) notify(method string, params any) {
	if s.stream == nil {
		return
	}
	if err := s.stream.Notify(method, params); err != nil {
		s.log.Debug("notification not delivered", zap.String("method", method), zap.Error(err))
	}
}

// call sends a request to the editor. It gives up when ctx ends or the
// connection goes away (jsonrpc2 alone would wait forever).
func (s *Server) call(ctx context.Context, method string, params, result any) error {
	if s.conn == nil {
		return errors.New("no connection")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.connCtx, cancel)
	defer stop()
	_, err := s.conn.Call(ctx, method, params, result)
	return err
}

// ShowMessage shows a message in the editor.
func (s *Server) ShowMessage(typ protocol.MessageType, msg string) {
	s.notify("window/showMessage", &protocol.ShowMessageParams{Type: typ, Message: msg})
}

// LogMessage writes to the editor's log for the bridge.
func (s *Server) LogMessage(typ protocol.MessageType, msg string) {
	s.notify("window/logMessage", &protocol.LogMessageParams{Type: typ, Message: msg})
}

func invalidParams(format string, args ...any) error {
	return jsonrpc2.Errorf(jsonrpc2.InvalidParams, format, args...)
}

func internalError(format string, args ...any) error {
	return jsonrpc2.Errorf(jsonrpc2.InternalError, format, args...)
}
