package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
)

// authStartWait bounds how long a task waits for the auth manager to start
// (its first check runs the key helper, which may run a key command).
const authStartWait = 30 * time.Second

// lazyAuth is the auth manager while it starts in the background, so that
// initialize answers at once: its first check runs the key helper, a few
// processes, which would otherwise delay every editor's start. Every call
// waits for the start to finish.
type lazyAuth struct {
	ready chan struct{}
	svc   AuthService // set before ready is closed; nil if the start failed
	err   error
}

func startLazyAuth(start func() (AuthService, error)) *lazyAuth {
	l := &lazyAuth{ready: make(chan struct{})}
	go func() {
		l.svc, l.err = start()
		if l.svc == nil && l.err == nil {
			l.err = errors.New("the auth manager did not start")
		}
		close(l.ready)
	}()
	return l
}

// get waits for the start; nil means it failed (see l.err).
func (l *lazyAuth) get() AuthService {
	select {
	case <-l.ready:
		return l.svc
	case <-time.After(authStartWait):
		return nil
	}
}

func (l *lazyAuth) startErr() error {
	select {
	case <-l.ready:
		return l.err
	default:
		return errors.New("the auth manager is still starting")
	}
}

func (l *lazyAuth) Launch(workspace string) (runner.Launch, error) {
	if a := l.get(); a != nil {
		return a.Launch(workspace)
	}
	return runner.Launch{}, l.startErr()
}

func (l *lazyAuth) CheckInit(src string) string {
	if a := l.get(); a != nil {
		return a.CheckInit(src)
	}
	return ""
}

func (l *lazyAuth) On401(ctx context.Context, taskID string) runner.AuthDecision {
	if a := l.get(); a != nil {
		return a.On401(ctx, taskID)
	}
	return runner.AuthDecision{}
}

func (l *lazyAuth) TaskEnded(taskID string) {
	if a := l.get(); a != nil {
		a.TaskEnded(taskID)
	}
}

func (l *lazyAuth) Fingerprint() string {
	if a := l.get(); a != nil {
		return a.Fingerprint()
	}
	return ""
}

func (l *lazyAuth) Rotated(ctx context.Context, fp string) bool {
	if a := l.get(); a != nil {
		return a.Rotated(ctx, fp)
	}
	return false
}

func (l *lazyAuth) Explain() string {
	if a := l.get(); a != nil {
		return a.Explain()
	}
	if err := l.startErr(); err != nil {
		return err.Error()
	}
	return ""
}

func (l *lazyAuth) Status() any {
	if a := l.get(); a != nil {
		return a.Status()
	}
	return map[string]any{"status": "error", "lastError": "authentication is not set up: " + l.startErr().Error()}
}

func (l *lazyAuth) Reconfigure(raw json.RawMessage) error {
	if a := l.get(); a != nil {
		return a.Reconfigure(raw)
	}
	return l.startErr()
}

func (l *lazyAuth) Close() error {
	if a := l.get(); a != nil {
		return a.Close()
	}
	return nil
}
