package runner

import (
	"encoding/json"
	"fmt"
)

// claude keeps a to-do list with one of two tool families, whichever it
// gives the model (measured on 2.1.332 with --input-format stream-json: by
// default neither; CLAUDE_CODE_ENABLE_TODO_TOOLS=1 with
// CLAUDE_CODE_ENABLE_TASKS=0 gives TodoWrite, with
// CLAUDE_CODE_ENABLE_TASKS=1 the task tools; both are deferred tools, and
// neither asks can_use_tool):
//   - TodoWrite {"todos": [{"content", "status": "pending" | "in_progress"
//     | "completed", "activeForm"}]} replaces the whole list; its
//     tool_use_result is {"oldTodos", "newTodos"}.
//   - TaskCreate {"subject", "description", "activeForm"?} → tool_use_result
//     {"task": {"id": "1", "subject", "description"}} (a new task is
//     pending); TaskUpdate {"taskId", "status"? (also "deleted"),
//     "subject"?, "activeForm"?, …} → {"success", "taskId",
//     "updatedFields", "statusChange"?: {"from", "to"}}; TaskList {} →
//     {"tasks": [{"id", "subject", "status", "blockedBy"}]}; TaskGet
//     {"taskId"} → {"task": {"id", "subject", "status", …} | null}.
// The bridge follows either family from the successful results and
// reports the whole list after each change.

// Todo is one item of claude's to-do list.
type Todo struct {
	ID         string // the task tools' id; "" for TodoWrite's items
	Content    string
	Status     string // pending, in_progress or completed
	ActiveForm string // "Running the tests": what is being done while in progress
}

// Todos is claude's to-do list after a change.
type Todos struct {
	ToolUseID string // the call that changed it
	Items     []Todo
}

// todoTools are the tools that change the to-do list.
var todoTools = map[string]bool{"TodoWrite": true, "TaskCreate": true, "TaskUpdate": true, "TaskList": true, "TaskGet": true}

// trackTodos follows a to-do tool's successful result; on the read loop.
func (t *Task) trackTodos(tu ToolUse, result json.RawMessage) {
	if !todoTools[tu.Name] {
		return
	}
	t.mu.Lock()
	fresh, sid := t.todos == nil, t.sessionID
	t.mu.Unlock()
	var prev []Todo
	if fresh {
		prev = t.mgr.lastTodos(sid) // never under t.mu: it locks the Manager and other tasks
	}
	t.mu.Lock()
	if t.todos == nil {
		t.todos = prev
	}
	before := append([]Todo(nil), t.todos...)
	t.todos = applyTodoResult(t.todos, tu, result)
	after := append([]Todo(nil), t.todos...)
	t.mu.Unlock()
	if !sameTodos(before, after) || tu.Name == "TodoWrite" {
		t.emit(Event{Kind: EventTodos, Todos: &Todos{ToolUseID: tu.ID, Items: after}})
	}
}

// applyTodoResult is the list after a to-do tool's result.
func applyTodoResult(list []Todo, tu ToolUse, result json.RawMessage) []Todo {
	switch tu.Name {
	case "TodoWrite":
		var r struct {
			NewTodos []todoItem `json:"newTodos"`
		}
		if json.Unmarshal(result, &r) != nil || r.NewTodos == nil {
			var in struct {
				Todos []todoItem `json:"todos"`
			}
			_ = json.Unmarshal(tu.Input, &in)
			r.NewTodos = in.Todos
		}
		out := make([]Todo, 0, len(r.NewTodos))
		for _, it := range r.NewTodos {
			out = append(out, Todo{Content: it.Content, Status: it.Status, ActiveForm: it.ActiveForm})
		}
		return out
	case "TaskCreate":
		var r struct {
			Task *taskItem `json:"task"`
		}
		var in taskItem
		_ = json.Unmarshal(tu.Input, &in)
		if json.Unmarshal(result, &r) != nil || r.Task == nil || r.Task.ID == "" {
			return list
		}
		subject := r.Task.Subject
		if subject == "" {
			subject = in.Subject
		}
		return append(list, Todo{ID: r.Task.ID, Content: subject, Status: "pending", ActiveForm: in.ActiveForm})
	case "TaskUpdate":
		var r struct {
			Success bool `json:"success"`
		}
		var in taskItem
		_ = json.Unmarshal(tu.Input, &in)
		if json.Unmarshal(result, &r) != nil || !r.Success || in.TaskID == "" {
			return list
		}
		i := findTodo(list, in.TaskID)
		if in.Status == "deleted" {
			if i >= 0 {
				list = append(list[:i:i], list[i+1:]...)
			}
			return list
		}
		if i < 0 {
			list = append(list, Todo{ID: in.TaskID, Content: "Task #" + in.TaskID, Status: "pending"})
			i = len(list) - 1
		}
		if in.Status != "" {
			list[i].Status = in.Status
		}
		if in.Subject != "" {
			list[i].Content = in.Subject
		}
		if in.ActiveForm != "" {
			list[i].ActiveForm = in.ActiveForm
		}
		return list
	case "TaskList":
		var r struct {
			Tasks []taskItem `json:"tasks"`
		}
		if json.Unmarshal(result, &r) != nil || r.Tasks == nil {
			return list
		}
		out := make([]Todo, 0, len(r.Tasks))
		for _, it := range r.Tasks {
			td := Todo{ID: it.ID, Content: it.Subject, Status: it.Status}
			if i := findTodo(list, it.ID); i >= 0 {
				td.ActiveForm = list[i].ActiveForm
			}
			out = append(out, td)
		}
		return out
	case "TaskGet":
		var r struct {
			Task *taskItem `json:"task"`
		}
		if json.Unmarshal(result, &r) != nil || r.Task == nil {
			return list
		}
		if i := findTodo(list, r.Task.ID); i >= 0 {
			list[i].Content, list[i].Status = r.Task.Subject, r.Task.Status
		}
		return list
	}
	return list
}

type todoItem struct {
	Content    string `json:"content"`
	Status     string `json:"status"`
	ActiveForm string `json:"activeForm"`
}

type taskItem struct {
	ID         string `json:"id"`
	TaskID     string `json:"taskId"`
	Subject    string `json:"subject"`
	Status     string `json:"status"`
	ActiveForm string `json:"activeForm"`
}

func findTodo(list []Todo, id string) int {
	for i, td := range list {
		if td.ID == id {
			return i
		}
	}
	return -1
}

func sameTodos(a, b []Todo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TodoProgress says where the list is, for a progress line: "3/7 Running
// the tests" (the item in progress, counted after the completed ones, by
// its activeForm), "2/7 done" when none is in progress, "" for an empty
// or finished list.
func TodoProgress(items []Todo) string {
	done := 0
	var current *Todo
	for i := range items {
		switch items[i].Status {
		case "completed":
			done++
		case "in_progress":
			if current == nil {
				current = &items[i]
			}
		}
	}
	switch {
	case len(items) == 0 || done == len(items):
		return ""
	case current == nil:
		return fmt.Sprintf("%d/%d done", done, len(items))
	}
	what := current.ActiveForm
	if what == "" {
		what = current.Content
	}
	return fmt.Sprintf("%d/%d %s", done+1, len(items), oneLine(what, 60))
}

// Todos is the task's to-do list as claude last left it (nil: none).
func (t *Task) Todos() []Todo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Todo(nil), t.todos...)
}

// lastTodos is the to-do list a conversation had at the end of its last
// task ("" or none known: nil), for a follow-up to go on from.
func (m *Manager) lastTodos(sessionID string) []Todo {
	if sessionID == "" {
		return nil
	}
	m.mu.Lock()
	order := append([]*Task(nil), m.order...)
	m.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		o := order[i]
		if !o.State().Terminal() || o.SessionID() != sessionID {
			continue
		}
		if todos := o.Todos(); todos != nil {
			return todos
		}
	}
	return nil
}
