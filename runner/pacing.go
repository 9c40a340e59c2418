package runner

import (
	"strings"
	"sync"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// textWindow paces text events: streamed text (text and thinking deltas)
// goes to the Observer at once when the previous text event is at least
// this old, else it is held and goes out as one event when the window
// ends (a timer sends it if no other line comes), or earlier, before any
// event that is not more text of the same message. So every character
// reaches the editor in order, at most textWindow late, and a claude
// streaming faster than the editor needs (the real API sends a few tokens
// every 10 to 50 ms; a loopback stand-in, thousands a second) costs the
// bridge and the editor at most one text event per window instead of one
// per delta. 16 ms is one frame of a 60 Hz display.
const textWindow = 16 * time.Millisecond

// textHold is a task's streamed text not yet sent, and when the last text
// event went out. The read loop adds to it; the read loop or its timer
// sends it.
type textHold struct {
	mu     sync.Mutex // guards the fields below; held while the text is emitted, so events keep their order
	window time.Duration
	kind   EventKind
	id     string
	text   strings.Builder
	last   time.Time   // when the last text event went out
	timer  *time.Timer // sends held text when its window ends
	armed  bool        // timer is set
}

// textKey names one message's text or thinking; parent is the Agent call
// whose subagent wrote the message ("" for the task's own).
type textKey struct {
	kind   EventKind
	id     string
	parent string
}

// textState is what was sent of one message's text, for reconcile.
type textState struct {
	kind       EventKind
	id         string
	join       stream.Joiner // holds a high surrogate that ended a delta until the next
	emitted    strings.Builder
	reconciled string
}

func (t *Task) textState(kind EventKind, id, parent string) *textState {
	if t.texts == nil {
		t.texts = map[textKey]*textState{}
	}
	k := textKey{kind, id, parent}
	st := t.texts[k]
	if st == nil {
		st = &textState{kind: kind, id: id}
		t.texts[k] = st
	}
	return st
}

// delta takes one streamed delta of message id (on the read loop): its
// text joined to the deltas before (stream.Joiner: a character cut
// between its UTF-16 surrogates comes out whole).
func (t *Task) delta(kind EventKind, id string, d stream.DeltaText) {
	st := t.textState(kind, id, "")
	if p := t.joining; p != nil && p != st {
		t.endJoin() // the text that held a surrogate has ended
	}
	text := st.join.Next(d)
	if st.join.Pending() {
		t.joining = st
	}
	t.push(st, text)
}

// endJoin hands on the surrogate a message's text still holds (as U+FFFD:
// no delta completed it), unless the task was cancelled: then nothing
// claude streams is the task's any more (quiet), the half it holds
// included. On the read loop, or once the turn has ended.
func (t *Task) endJoin() {
	if st := t.joining; st != nil {
		t.joining = nil
		if rest := st.join.Flush(); !t.quiet.Load() {
			t.push(st, rest)
		}
	}
}

// push adds text to what was streamed of st's message and sends it, at
// once or within textWindow.
func (t *Task) push(st *textState, text string) {
	if text == "" {
		return
	}
	kind, id := st.kind, st.id
	st.emitted.WriteString(text)
	h := &t.hold
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.text.Len() > 0 && (h.kind != kind || h.id != id) {
		t.sendHeldLocked(time.Now())
	}
	h.kind, h.id = kind, id
	h.text.WriteString(text)
	now := time.Now()
	window := h.window
	if window == 0 {
		window = textWindow
	}
	if since := now.Sub(h.last); since >= window {
		t.sendHeldLocked(now)
	} else if !h.armed {
		h.armed = true
		if h.timer == nil {
			h.timer = time.AfterFunc(window-since, t.sendHeldOnTime) // ends once it has sent
		} else {
			h.timer.Reset(window - since)
		}
	}
}

// sendHeldOnTime sends the held text when its window ends (the timer).
func (t *Task) sendHeldOnTime() {
	t.hold.mu.Lock()
	defer t.hold.mu.Unlock()
	t.hold.armed = false
	t.sendHeldLocked(time.Now())
}

// flushText sends the held text, if any, at once: before an event that is
// not text of the same message, and when the turn ends.
func (t *Task) flushText() {
	t.hold.mu.Lock()
	defer t.hold.mu.Unlock()
	t.sendHeldLocked(time.Now())
}

func (t *Task) sendHeldLocked(now time.Time) {
	h := &t.hold
	if h.text.Len() == 0 {
		return
	}
	text := h.text.String()
	h.text.Reset()
	h.last = now
	t.emit(Event{Kind: h.kind, MessageID: h.id, Text: text})
}
