package terminal

import (
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
)

// showTodos follows claude's to-do list: the list when it is made (or
// remade), a line per item added or completed, and where the list is in
// the progress line ("3/7 Running the tests"). Called with mu held.
func (u *UI) showTodos(items []runner.Todo) {
	n := len(u.todos)
	if n == 0 || n > len(items) || !sameContents(u.todos, items[:n]) {
		names := make([]string, len(items))
		for i, td := range items {
			names[i] = todoMark(td.Status) + " " + td.Content
		}
		if len(names) > 0 {
			u.lineLocked("☰ To-dos: " + strings.Join(names, " · "))
		}
	} else {
		for i, td := range items {
			switch {
			case i >= n:
				u.lineLocked("  " + todoMark(td.Status) + " " + td.Content)
			case td.Status == "completed" && u.todos[i].Status != "completed":
				u.lineLocked("  ☑ " + td.Content)
			}
		}
	}
	u.todos = append([]runner.Todo(nil), items...)
	u.todo = runner.TodoProgress(items)
	u.progress(u.todo)
}

// sameContents reports whether two lists hold the same items in the same
// order, whatever their statuses.
func sameContents(a, b []runner.Todo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Content != b[i].Content {
			return false
		}
	}
	return true
}

func todoMark(status string) string {
	switch status {
	case "completed":
		return "☑"
	case "in_progress":
		return "◐"
	}
	return "☐"
}
