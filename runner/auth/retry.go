package auth

import (
	"context"
	"fmt"
	"time"
)

// MaxSameKey401 is how many consecutive 401s a task may see while the helper
// keeps yielding the same key (or none) before On401 says to abort: claude by
// itself would retry a revoked key for about three minutes.
const MaxSameKey401 = 3

// Decision is On401's answer for a task that just saw HTTP 401.
type Decision struct {
	// Abort is true when retrying is pointless: the same key failed
	// MaxSameKey401 times in a row. Err then says why and how to fix it.
	Abort bool
	Err   error
	// Message is a progress line for the user, e.g. "Authentication failed;
	// refreshed key from ~/.claude/api_key".
	Message string
	// Source and Fingerprint describe the key the helper yields now
	// (SourceNone and "" when it yields none).
	Source      string
	Fingerprint string
	// Count is the number of consecutive 401s seen with this key.
	Count int
}

// taskAuth is one task's 401 history.
type taskAuth struct {
	fingerprint string // what the helper yielded at the last 401
	count       int    // consecutive 401s with that fingerprint
}

// On401 is called by the task runner for each api_retry with error_status
// 401 (claude will call the helper again before its retry). It refreshes at
// once, so the new key is known and recorded, and counts: a changed key
// starts the count again; the same key (or no key) MaxSameKey401 times in a
// row gives Abort. In inherit mode it never aborts.
func (m *Manager) On401(ctx context.Context, taskID string) Decision {
	cfg := m.config()
	m.writeAudit(auditRecord{Event: EventAuth401, TaskID: taskID})
	if cfg.mode != ModeHelper {
		return Decision{Message: "Authentication failed (HTTP 401); claude retries with its own credentials", Source: SourceInherit}
	}
	res := m.check(ctx)
	if res.cancelled {
		return Decision{Message: "Authentication failed (HTTP 401)", Source: SourceNone}
	}
	m.mu.Lock()
	t := m.tasks[taskID]
	if t == nil {
		t = &taskAuth{}
		m.tasks[taskID] = t
	}
	if t.count > 0 && t.fingerprint == res.fingerprint {
		t.count++
	} else {
		t.fingerprint, t.count = res.fingerprint, 1
	}
	d := Decision{Source: res.source, Fingerprint: res.fingerprint, Count: t.count}
	m.mu.Unlock()

	switch {
	case !res.ok:
		d.Message = "Authentication failed; the key helper fails: " + res.err
	case d.Count == 1 && d.Fingerprint != "":
		d.Message = fmt.Sprintf("Authentication failed; refreshed key from %s (fingerprint %s)", sourceDisplay(cfg, res.source), res.fingerprint)
	default:
		d.Message = "Authentication failed; refreshed key from " + sourceDisplay(cfg, res.source)
	}
	if d.Count < MaxSameKey401 {
		m.writeAudit(auditRecord{Event: EventTaskAuthRetry, TaskID: taskID, Source: res.source, Fingerprint: res.fingerprint})
		return d
	}
	d.Abort = true
	if res.ok {
		d.Err = fmt.Errorf("authentication failed %d times in a row with the same API key (fingerprint %s) from %s: the API rejects it; %s",
			d.Count, res.fingerprint, sourceDisplay(cfg, res.source), sourceFix(cfg, res.source))
	} else {
		d.Err = fmt.Errorf("authentication failed %d times in a row and the key helper yields no key: %s", d.Count, res.err)
	}
	m.writeAudit(auditRecord{Event: EventTaskAuthFailed, TaskID: taskID, Source: res.source, Fingerprint: res.fingerprint, Error: d.Err.Error()})
	return d
}

// OnTaskSuccess resets a task's 401 count: a request got through, so later
// 401s are not "in a row" with the earlier ones. The runner calls it when
// the API answers again (an assistant message) after a 401 of the task.
func (m *Manager) OnTaskSuccess(taskID string) {
	m.mu.Lock()
	if t := m.tasks[taskID]; t != nil {
		t.count = 0
	}
	m.mu.Unlock()
}

// ForgetTask drops a task's 401 history when the task ends.
func (m *Manager) ForgetTask(taskID string) {
	m.mu.Lock()
	delete(m.tasks, taskID)
	m.mu.Unlock()
}

// Rotated reports whether the helper now yields a different key than the one
// recorded when a task started (startFingerprint, from Fingerprint). It
// checks afresh when the last outcome is older than maxAge, so a task that
// failed on auth can be run again at once when the user has just fixed the
// key. The runner should give up after a few attempts (3 suggested).
func (m *Manager) Rotated(ctx context.Context, startFingerprint string, maxAge time.Duration) bool {
	m.mu.Lock()
	last, mode := m.last, m.cfg.mode
	m.mu.Unlock()
	if mode != ModeHelper {
		return false
	}
	if time.Since(last.at) > maxAge {
		last = m.check(ctx)
	}
	return last.ok && last.fingerprint != startFingerprint
}
