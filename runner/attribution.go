package runner

import (
	"time"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
)

// Tasks running at the same time in one folder tell each other what they
// wrote, so that a task's checkpoint keeps out the changes of the others
// (runner/checkpoint's attribution.go): a file tool's write (its file, what
// it was before and after), the files a Bash command changed (from the
// task's snapshots), or, for a Bash command of a task without snapshots
// (review off, or git missing), that it ran and may have changed anything.
// Every running task with a checkpoint hears every other task's writes;
// each matches them with its own files when it ends.

// noteWrite records a write of the task's own in its checkpoint and tells
// the other running tasks that keep checkpoints. It does no file system
// call (the read loop calls it).
func (t *Task) noteWrite(w checkpoint.Write) {
	t.mu.Lock()
	cp := t.ckpt
	t.mu.Unlock()
	if cp != nil {
		cp.NoteOwn(w)
	}
	t.mgr.noteOthers(w, t)
}

// notePreRead keeps what a file was just before a file tool of the task
// writes it (read by the PreToolUse hook): the write's Before, exact where
// claude's own originalFile is not (it reports a CRLF file with LF).
func (t *Task) notePreRead(toolUseID string, c checkpoint.Content) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.preRead == nil {
		t.preRead = map[string]checkpoint.Content{}
	}
	t.preRead[toolUseID] = c
}

// toolStarted notes when claude asked for a tool call (read loop).
func (t *Task) toolStarted(id string) {
	if t.toolStart == nil {
		t.toolStart = map[string]time.Time{}
	}
	t.toolStart[id] = time.Now()
}

// noteToolWrite tells of the write of a file tool whose result came (fc:
// the change it reported), or of a Bash command of a task that keeps no
// snapshots (fc nil). Read loop.
func (t *Task) noteToolWrite(tu ToolUse, fc *FileChange) {
	start, ok := t.toolStart[tu.ID]
	delete(t.toolStart, tu.ID)
	if !ok {
		start = time.Now()
	}
	t.mu.Lock()
	before, read := t.preRead[tu.ID]
	delete(t.preRead, tu.ID)
	cp := t.ckpt
	t.mu.Unlock()
	if fc == nil {
		if tu.Name == "Bash" && cp == nil {
			t.noteWrite(checkpoint.Write{Task: t.ID, Bash: true, Start: start, End: time.Now()})
		}
		return
	}
	known := true
	if !read {
		switch {
		case fc.Before != nil:
			before = checkpoint.Content{Exists: true, Data: []byte(*fc.Before)}
		case tu.Name == "Write":
			before = checkpoint.Content{} // claude reports no originalFile for a file it creates
		default:
			known = false
		}
	}
	r := fc.after
	t.noteWrite(checkpoint.Write{Task: t.ID, Path: fc.Path, Start: start, End: time.Now(), Before: before,
		After: func() (checkpoint.Content, bool) {
			if !known || r == nil {
				return checkpoint.Content{}, false
			}
			<-r.done // bounded by changeReadTime
			if r.err != nil {
				return checkpoint.Content{}, false
			}
			if r.text == nil {
				return checkpoint.Content{}, true
			}
			return checkpoint.Content{Exists: true, Data: []byte(*r.text)}, true
		}})
}

// NoteUserWrite tells every running task that keeps a checkpoint that the
// user wrote a file (checkpoint.UserWrite: saved it in the editor): a Bash
// command running meanwhile sees the change, which is not its task's, and a
// revert never takes it back. It returns the checkpoints of the tasks that
// are ending or have ended (the Manager still knows them), which no longer
// take writes as they come: whether the save belongs in one of them (it
// was made while the task ran, and its didSave came late) is the caller's
// to judge (checkpoint.Task.AddUserSave). The server calls it on each save;
// it does no file system call.
func (m *Manager) NoteUserWrite(w checkpoint.Write) (ended map[string]*checkpoint.Task) {
	return m.noteOthers(w, nil)
}

// noteOthers records w with the checkpoint of every running task but
// except, and returns the checkpoints (by task id) of the others that
// are ending or have ended.
func (m *Manager) noteOthers(w checkpoint.Write, except *Task) map[string]*checkpoint.Task {
	m.mu.Lock()
	var tasks []*Task
	for _, o := range m.tasks {
		if o != except {
			tasks = append(tasks, o)
		}
	}
	m.mu.Unlock()
	var ended map[string]*checkpoint.Task
	for _, o := range tasks {
		o.mu.Lock()
		cp, over := o.ckpt, o.state.Terminal()
		o.mu.Unlock()
		if cp == nil || (!over && cp.NoteOther(w)) {
			continue
		}
		if ended == nil {
			ended = map[string]*checkpoint.Task{}
		}
		ended[o.ID] = cp
	}
	return ended
}
