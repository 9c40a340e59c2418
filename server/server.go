package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lspstream"
)

// requestCancelled is LSP's RequestCancelled code (-32800), which jsonrpc2
// v0.10 does not define.
const requestCancelled jsonrpc2.Code = -32800

// maxRequests bounds the task-starting requests (claude.run,
// claude.followUp) served at once; past it the bridge answers "busy"
// instead of blocking the read loop. Every other request (claude.cancel,
// claude.tasks, claude.authStatus, shutdown) is quick and never refused
// for it: the editor can always cancel, list and stop.
const maxRequests = 256

// shutdownWait is how long shutdown, exit, SIGTERM and a closed stdin
// wait for claude processes to stop before killing them outright; with
// killWait, closeWait and flushWait after it, the bridge is gone within
// 10 s whatever the editor and claude do.
const (
	shutdownWait = 6 * time.Second
	killWait     = time.Second
	closeWait    = 500 * time.Millisecond
	flushWait    = time.Second
)

// Timeouts of the requests the bridge sends the editor, and what happens
// when one runs out: no progress for the task (create), a Deny
// (showMessageRequest: a person answers, so it waits long), claude's
// questions unanswered or its plan not approved (claude/ask, claude/plan,
// as long), an edit left on disk only (applyEdit), a plan not shown
// (showDocument).
const (
	progressCreateTimeout = 10 * time.Second
	permissionTimeout     = 10 * time.Minute
	defaultCallTimeout    = 30 * time.Second
)

// Options wire a Server to the rest of the bridge.
type Options struct {
	Log     *zap.Logger
	Version string
	// Runner is the base runner configuration (environment, stop grace);
	// the editor's settings fill in the rest.
	Runner runner.Config
	// Auth turns on the auth manager (runner/auth): its Home, Environ (the
	// bridge's own environment, where a key may come from and whose
	// request-routing variables every launch pins; nil: Runner.Env) and
	// AuditPath (the default audit trail) are the base the editor's auth
	// settings fill in. nil runs claude with its own authentication.
	Auth *auth.Config
	// SetLogLevel changes the log file's level when the editor asks.
	SetLogLevel func(level string)
	// StateDir is where the bridge keeps files of its own (plans to
	// approve); "" is a folder of the user's under the system's temp dir.
	StateDir string
}

// serverState is where the connection is in LSP's lifecycle: new (only
// initialize is served), initialized, shut down (only exit is served).
type serverState int

const (
	stateNew serverState = iota
	stateInitialized
	stateShutdown
)

func (s serverState) String() string {
	switch s {
	case stateNew:
		return "new"
	case stateInitialized:
		return "initialized"
	case stateShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("serverState(%d)", int(s))
}

// Server is one editor connection.
type Server struct {
	opts Options
	log  *zap.Logger

	conn    jsonrpc2.Conn
	stream  *lspstream.Stream
	connCtx context.Context // ends when the connection does
	sem     chan struct{}
	exitCh  chan int
	// answering counts the requests being served on goroutines of their
	// own (serveCall), so that exit lets the replies in flight (shutdown's
	// above all) go out first, for a bounded time (Serve).
	answering sync.WaitGroup

	mgr  *runner.Manager
	bufs *buffers
	// checkpoints and snapshots are the review setting's (changes.go),
	// under the state directory.
	checkpoints *checkpoint.Store
	snapshots   *checkpoint.Snapshots
	// saves orders the user's late saves with the checkpoints' readers
	// (usersaves.go).
	saves userSaves

	// configs carries auth settings changes, in order, from the read loop
	// to configLoop (which may wait for the auth manager).
	configs chan authChange

	mu       sync.Mutex // guards the fields below
	state    serverState
	settings Settings
	folders  []Folder
	caps     clientCaps
	auth     *authManager // nil without Options.Auth
	greeting []string     // warnings for the user, sent on initialized
	greeted  bool         // initialized came
	inflight cancels      // requests in flight, by id as the editor spelled it
	// The claude.run and claude.followUp requests that name their task's
	// id, and the progress tokens such requests name, from the moment
	// each is read until it is answered: a cancel that overtakes the
	// task's start still finds it.
	pendingStarts  map[string][]*pendingStart
	reservedTokens cancels
	tasks          map[string]*taskView // running tasks by id
	tokens         map[string]string    // progress token → task id
	shutdownOK     bool

	deferred   deferredQuestions // claude/ask and claude/plan answered later (answer.go; own lock)
	steerOrder steerOrder        // the editor's order among the requests that steer a task (order.go; own lock)
}

// cancels maps a key to the cancel functions of everything in flight
// under it: two requests with the same id each stay cancellable, and
// each removes only itself.
type cancels map[string][]*context.CancelFunc

func (c cancels) add(key string, f *context.CancelFunc) { c[key] = append(c[key], f) }

func (c cancels) remove(key string, f *context.CancelFunc) {
	fs := c[key]
	for i, x := range fs {
		if x == f {
			fs = append(fs[:i], fs[i+1:]...)
			break
		}
	}
	if len(fs) == 0 {
		delete(c, key)
	} else {
		c[key] = fs
	}
}

// get returns one function cancelling everything under key (nil if none).
func (c cancels) get(key string) func() {
	fs := append([]*context.CancelFunc(nil), c[key]...)
	if len(fs) == 0 {
		return nil
	}
	return func() {
		for _, f := range fs {
			(*f)()
		}
	}
}

// pendingStart is a claude.run or claude.followUp that names its task's
// id, from the moment it is read until it is answered (Server.pendingStarts).
type pendingStart struct {
	cancel  context.CancelFunc // the request's
	decided chan struct{}      // closed once the task is registered, or the request answered without one
	once    sync.Once          // closes decided

	// Guarded by Server.mu:
	cancelWanted     bool // a claude.cancel came before the task was registered
	cancelledAtStart bool // and the task was cancelled as it was registered
}

func (p *pendingStart) decide() { p.once.Do(func() { close(p.decided) }) }

// pendingKey is the context key of a request's *pendingStart.
type pendingKey struct{}

// startedTask tells the request's pendingStart (if it has one) that its
// task is registered, and cancels the request (and so the task, which
// then ends "cancelled") when a claude.cancel came first.
func (s *Server) startedTask(ctx context.Context) {
	p, _ := ctx.Value(pendingKey{}).(*pendingStart)
	if p == nil {
		return
	}
	s.mu.Lock()
	want := p.cancelWanted
	p.cancelledAtStart = want
	s.mu.Unlock()
	p.decide()
	if want {
		p.cancel()
	}
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
		configs:        make(chan authChange, 64),
		inflight:       cancels{},
		pendingStarts:  map[string][]*pendingStart{},
		reservedTokens: cancels{},
		tasks:          map[string]*taskView{},
		tokens:         map[string]string{},
	}
	s.checkpoints = checkpoint.NewStore(filepath.Join(s.stateDir(), "checkpoints"), checkpoint.Limits{})
	s.snapshots = checkpoint.NewSnapshots(filepath.Join(s.stateDir(), "snapshots"), "")
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
	// the editor before the process ends, unless the editor does not read.
	defer st.Flush(flushWait)
	s.stream = st
	s.conn = jsonrpc2.NewConn(st)
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.connCtx = connCtx
	go s.configLoop(connCtx)
	s.conn.Go(connCtx, s.handle)
	select {
	case code := <-s.exitCh:
		s.waitAnswered(flushWait)
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

// waitAnswered waits up to d for the requests being served to be
// answered (their tasks are stopped by then: exit stops them): the reply
// to a shutdown the editor sent right before exit, and the results of the
// tasks it cancelled, go out before the bridge does.
func (s *Server) waitAnswered(d time.Duration) {
	done := make(chan struct{})
	go func() { // ends when the last request is answered, also after d
		s.answering.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		s.log.Warn("requests still unanswered at exit", zap.Duration("waited", d))
	}
}

// stopTasks cancels every task and waits (bounded) for claude to be gone;
// what is still alive then is killed.
func (s *Server) stopTasks() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := s.mgr.Shutdown(ctx); err != nil {
		s.log.Warn("claude processes did not stop in time; killing them", zap.Error(err))
		s.mgr.Kill()
		kctx, kcancel := context.WithTimeout(context.Background(), killWait)
		defer kcancel()
		_ = s.mgr.Shutdown(kctx)
	}
}

// closeAll stops the watcher and the auth manager, waiting at most
// closeWait (the auth manager may still be starting: a key command).
func (s *Server) closeAll() {
	done := make(chan struct{})
	go func() { // ends when both are closed; not waited for past closeWait
		defer close(done)
		s.bufs.close()
		s.mu.Lock()
		a := s.auth
		s.mu.Unlock()
		if a != nil {
			_ = a.close()
		}
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		s.log.Warn("the auth manager did not close in time")
	}
}

// handle is called on the read loop for every message. Replies go out
// through the stream (with the id as the editor spelled it), not
// jsonrpc2's replier.
func (s *Server) handle(ctx context.Context, _ jsonrpc2.Replier, req jsonrpc2.Request) error {
	switch r := req.(type) {
	case *jsonrpc2.Notification:
		s.safeNotification(r.Method(), r.Params())
		return nil
	case *jsonrpc2.Call:
		s.serveCall(r)
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
// must be done before the notifications that follow it are handled. On
// the read loop, replies never wait for the editor (a refusal to an editor
// that does not read is dropped).
func (s *Server) serveCall(call *jsonrpc2.Call) {
	method, id := call.Method(), call.ID()
	key := rawIDKey(s.stream.RawID(id))
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch {
	case method == "initialize":
		res, err := s.guard(method, func() (any, error) { return s.initialize(call.Params()) })
		s.reply(id, res, err, false)
		return
	case state == stateNew:
		s.log.Debug("request refused", zap.String("method", method), zap.Stringer("state", state))
		s.reply(id, nil, jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "the server is not initialized: send initialize first"), false)
		return
	case state == stateShutdown && method != "shutdown":
		s.log.Debug("request refused", zap.String("method", method), zap.Stringer("state", state))
		s.reply(id, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "the server is shutting down"), false)
		return
	case method == "shutdown":
		// Received: from now on exit means 0 (LSP: "if the shutdown
		// request has been received before"), even if exit is read before
		// the request's goroutine runs or its reply can be written, and
		// every later request is refused.
		s.mu.Lock()
		s.state, s.shutdownOK = stateShutdown, true
		s.mu.Unlock()
	}
	startsTask, taskID, token, steered := namedTask(method, call.Params())
	var steerWait <-chan struct{}
	steerDone := func() {}
	if steered != "" {
		steerWait, steerDone = s.steerOrder.place(steered)
	}
	if startsTask {
		select {
		case s.sem <- struct{}{}:
		default:
			s.reply(id, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "the server is busy: %d tasks requested and not yet answered", maxRequests), false)
			steerDone()
			return
		}
	}
	ctx, cancel := context.WithCancel(s.connCtx)
	release := func() {}
	var pending *pendingStart
	if taskID != "" {
		// No generated id is this one while the request is decoded.
		release = s.mgr.Hold(taskID)
		pending = &pendingStart{cancel: cancel, decided: make(chan struct{})}
		ctx = context.WithValue(ctx, pendingKey{}, pending)
	}
	s.mu.Lock()
	s.inflight.add(key, &cancel)
	if pending != nil {
		s.pendingStarts[taskID] = append(s.pendingStarts[taskID], pending)
	}
	if token != "" {
		s.reservedTokens.add(token, &cancel)
	}
	s.mu.Unlock()
	s.answering.Add(1)
	go func() { // ends when the request is answered
		defer s.answering.Done()
		if startsTask {
			defer func() { <-s.sem }()
		}
		defer func() {
			s.mu.Lock()
			s.inflight.remove(key, &cancel)
			if pending != nil {
				ps := s.pendingStarts[taskID]
				for i, p := range ps {
					if p == pending {
						ps = append(ps[:i:i], ps[i+1:]...)
						break
					}
				}
				if len(ps) == 0 {
					delete(s.pendingStarts, taskID)
				} else {
					s.pendingStarts[taskID] = ps
				}
			}
			if token != "" {
				s.reservedTokens.remove(token, &cancel)
			}
			s.mu.Unlock()
			if pending != nil {
				pending.decide()
			}
			release()
			cancel()
		}()
		if steerWait != nil {
			select {
			case <-steerWait:
			case <-ctx.Done():
				// Cancelled while it waited: answered at once, its place
				// freed only once the request before it is done.
				go func() { <-steerWait; steerDone() }() // ends when that request is done
				s.reply(id, nil, jsonrpc2.Errorf(requestCancelled, "request cancelled"), true)
				return
			}
		}
		res, err := s.guard(method, func() (any, error) { defer steerDone(); return s.request(ctx, method, call.Params()) })
		if err == nil && ctx.Err() != nil && s.connCtx.Err() == nil && !cancelAware(method) {
			err = jsonrpc2.Errorf(requestCancelled, "request cancelled")
		}
		s.reply(id, res, err, true)
	}()
}

// namedTask reads, on the read loop, whether a request starts a task
// (claude.run or claude.followUp), and the task id and progress token it
// gives (either may be ""), or else the task it steers (steered:
// claude.send, claude.interrupt, claude.setPermissionMode, claude.setModel;
// steerOrder keeps their order). It decodes only those fields of the
// arguments (a prompt may be long): the request's own goroutine decodes
// them all, strictly, and refuses bad ones.
func namedTask(method string, params json.RawMessage) (startsTask bool, taskID, token, steered string) {
	if method != "workspace/executeCommand" {
		return false, "", "", ""
	}
	var p executeCommandParams
	if json.Unmarshal(params, &p) != nil {
		return false, "", "", ""
	}
	switch p.Command {
	case lspext.CommandRun, lspext.CommandFollowUp:
	case lspext.CommandSend, lspext.CommandInterrupt, lspext.CommandSetPermissionMode, lspext.CommandSetModel:
		if len(p.Arguments) > 0 {
			var a struct {
				TaskID string `json:"taskId"` // lspext.SendArgs.TaskID and the others'
			}
			_ = json.Unmarshal(p.Arguments[0], &a) // bad arguments: the handler refuses them
			steered = a.TaskID
		}
		return false, "", "", steered
	default:
		return false, "", "", ""
	}
	if len(p.Arguments) > 0 {
		var ids struct {
			TaskID    string `json:"taskId"`    // lspext.RunArgs.TaskID
			NewTaskID string `json:"newTaskId"` // lspext.FollowUpArgs.NewTaskID
		}
		_ = json.Unmarshal(p.Arguments[0], &ids) // bad arguments: the handler refuses them
		taskID = ids.TaskID
		if p.Command == lspext.CommandFollowUp {
			taskID = ids.NewTaskID
		}
	}
	return true, taskID, progressToken(p.WorkDoneToken), "" // a token "" for one that is not a token: the handler refuses it
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

// reply answers a request; wait false never blocks (for the read loop).
// The reply to a cancelled request still goes out.
func (s *Server) reply(id jsonrpc2.ID, res any, err error, wait bool) {
	if err != nil {
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) {
			err = jsonrpc2.Errorf(jsonrpc2.InternalError, "%s", err.Error())
		}
	}
	if werr := s.stream.Respond(id, res, err, wait); werr != nil {
		s.log.Debug("reply not delivered", zap.Error(werr))
	}
}

// request dispatches one request by method.
func (s *Server) request(ctx context.Context, method string, params json.RawMessage) (any, error) {
	switch method {
	case "shutdown":
		return s.shutdown()
	case "workspace/executeCommand":
		p, err := decodeExecuteCommand(params)
		if err != nil {
			return nil, err
		}
		return s.executeCommand(ctx, p)
	}
	return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not supported: %s", method)
}

// notification dispatches one notification by method, on the read loop.
func (s *Server) notification(method string, params json.RawMessage) {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if method == "exit" {
		go s.exit() // it may stop tasks: never on the read loop
		return
	}
	if state == stateNew {
		s.log.Debug("notification dropped", zap.String("method", method), zap.Stringer("state", state))
		return
	}
	switch method {
	case "initialized":
		s.initialized()
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
	cancel := s.inflight.get(key)
	s.mu.Unlock()
	if cancel != nil {
		s.log.Debug("request cancelled by the editor", zap.String("id", key))
		cancel()
	}
}

// rawIDKey is the key of a request id or progress token: a number as the
// editor spelled it (no float rounding: 9007199254740993 and
// 9007199254740992 stay two ids, and 5.0 is not 5), a string by its
// value (so "a\/b" and "a/b", which JSON encoders spell either way, are one).
func rawIDKey(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			return strconv.Quote(str)
		}
	}
	return string(raw)
}

// notify sends a notification to the editor, waiting for room when the
// editor reads slowly (never past the stream's Close).
func (s *Server) notify(method string, params any) {
	if s.stream == nil {
		return
	}
	if err := s.stream.Notify(method, params); err != nil {
		s.log.Debug("notification not delivered", zap.String("method", method), zap.Error(err))
	}
}

// tell sends a notification from the read loop: it never waits, and drops
// the notification when the editor is not reading.
func (s *Server) tell(method string, params any) {
	if s.stream == nil {
		return
	}
	if err := s.stream.TryNotify(method, params); err != nil {
		s.log.Warn("notification dropped", zap.String("method", method), zap.Error(err))
	}
}

// callTimeout bounds each request to the editor (see the constants).
func callTimeout(method string) time.Duration {
	switch method {
	case "window/workDoneProgress/create":
		return progressCreateTimeout
	case "window/showMessageRequest", lspext.MethodPermission, lspext.MethodAsk, lspext.MethodPlan, lspext.MethodReviewEdit:
		return permissionTimeout
	}
	return defaultCallTimeout
}

// call sends a request to the editor. It gives up when ctx ends (the
// task the request is for ended), the connection goes away (jsonrpc2
// alone would wait forever) or the method's timeout passes; the caller
// falls back. A request given up on is withdrawn with $/cancelRequest, so
// that the editor can close what it shows for it (a permission question:
// VS Code cancels the handler's token, which the extension uses to
// withdraw the question; Neovim's client ignores it, and the plugin drops
// a task's questions when the task's result event comes), and a late
// answer is dropped (lspstream: only replies still waited for go on).
func (s *Server) call(ctx context.Context, method string, params, result any) error {
	if s.conn == nil {
		return errors.New("no connection")
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout(method))
	defer cancel()
	stop := context.AfterFunc(s.connCtx, cancel)
	defer stop()
	id, err := s.conn.Call(ctx, method, params, result)
	s.stream.Forget(id)
	if err != nil && ctx.Err() != nil && s.connCtx.Err() == nil {
		s.tell("$/cancelRequest", &protocol.CancelParams{ID: &id})
	}
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
