package runner

import (
	"slices"
	"testing"
)

// TestGeneratedIDsSkipEveryNamedID: a generated task id (t<n>) is never an
// id a registered task has, one a request in flight holds, or one an
// editor ever named, whatever the order in which they came (issue 12:
// claude.run {taskId: "t2"} and two claude.run {} gave two live tasks t2).
func TestGeneratedIDsSkipEveryNamedID(t *testing.T) {
	m := NewManager(Config{})
	newID := func(id string) string {
		t.Helper()
		task, err := m.NewTask(Spec{ID: id}, nil)
		if err != nil {
			t.Fatalf("NewTask(%q): %v", id, err)
		}
		return task.ID
	}
	named := newID("t2") // the editor names t2 first
	if named != "t2" {
		t.Fatalf("named id %q", named)
	}
	release := m.Hold("t3") // a claude.run naming t3 is being decoded
	if a, b := newID(""), newID(""); a != "t1" || b != "t4" {
		t.Errorf("generated %s, %s; want t1, t4 (t2 is a task's, t3 held)", a, b)
	}
	release()
	release() // idempotent
	if _, err := m.NewTask(Spec{ID: "t2"}, nil); err == nil {
		t.Error("a second task t2 was registered")
	}
	// An id named and forgotten (its request refused) stays skipped: a
	// follow-up naming it must never find another task.
	m.Hold("t6")()
	newID("t9")
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, newID(""))
	}
	if want := []string{"t5", "t7", "t8", "t10"}; !slices.Equal(got, want) {
		t.Errorf("generated %v, want %v", got, want)
	}
	// Ids that only look like generated ones are the editor's own.
	for _, id := range []string{"t011", "t+12", "T13", "t", "t99999999999999999999"} {
		newID(id)
	}
	if id := newID(""); id != "t11" {
		t.Errorf("generated %s after look-alikes, want t11", id)
	}
}
