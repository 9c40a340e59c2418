package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Audit events, the `event` field of each audit line.
const (
	EventHelperWritten    = "helper_written"     // the managed helper was created or updated
	EventHelperRestored   = "helper_restored"    // someone changed or deleted the managed helper; it was put back
	EventKeySourceChanged = "key_source_changed" // the source or the key (fingerprint) changed
	EventRefreshOK        = "refresh_ok"         // a helper run yielded a key
	EventRefreshFailed    = "refresh_failed"     // a helper run failed
	EventAuth401          = "auth_401"           // a task saw HTTP 401
	EventTaskAuthRetry    = "task_auth_retry"    // the task goes on after a 401, with a refreshed key
	EventTaskAuthFailed   = "task_auth_failed"   // the task is aborted: the same key failed again and again
)

// auditRecord is one line of the audit trail. It has no field that could
// hold a key; Error is scrubbed again before it is written.
type auditRecord struct {
	Time        time.Time `json:"time"`
	Event       string    `json:"event"`
	Source      string    `json:"source,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	DurationMs  *int64    `json:"durationMs,omitempty"`
	TaskID      string    `json:"taskId,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// auditLog appends JSON lines to a file shared by every bridge of the user.
// Each append opens the file with O_APPEND (so lines from several processes
// interleave whole), takes an flock for the rotation decision, and closes it
// again: no descriptor is kept that a rotation by another process could
// leave pointing at the old file.
type auditLog struct {
	mu   sync.Mutex // serialises appends and rotations within this process
	path string     // "" disables the trail
	max  int64
}

func (a *auditLog) setPath(path string, max int64) {
	a.mu.Lock()
	a.path, a.max = path, max
	a.mu.Unlock()
}

// write appends rec. Failures are returned for logging only: the audit trail
// must never stop authentication.
func (a *auditLog) write(rec auditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.path == "" {
		return nil
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	rec.Time = rec.Time.UTC()
	rec.Error = redact(rec.Error)
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		// Another process may have rotated the file between our open and
		// our lock: then we hold the old file and must reopen.
		if cur, err := os.Stat(a.path); err != nil || !os.SameFile(fi, cur) {
			f.Close()
			if attempt < 3 {
				continue
			}
			return fmt.Errorf("audit file %s keeps changing", a.path)
		}
		if fi.Size() > 0 && fi.Size()+int64(len(line)) > a.max {
			err := os.Rename(a.path, a.path+".1")
			f.Close()
			if err != nil {
				return err
			}
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			// The trail names key sources and task ids: keep it private
			// even when it was created by hand with a looser mode.
			f.Chmod(0o600)
		}
		_, err = f.Write(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
}
