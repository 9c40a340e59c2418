package runner

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestTodoProgress(t *testing.T) {
	for _, c := range []struct {
		items []Todo
		want  string
	}{
		{nil, ""},
		{[]Todo{{Content: "a", Status: "completed"}}, ""},
		{[]Todo{{Content: "a", Status: "completed"}, {Content: "b", Status: "pending"}}, "1/2 done"},
		{[]Todo{{Content: "a", Status: "completed"}, {Content: "b", Status: "completed"}, {Content: "Run the tests", Status: "in_progress", ActiveForm: "Running the tests"},
			{Content: "d", Status: "pending"}}, "3/4 Running the tests"},
		{[]Todo{{Content: "Fix it", Status: "in_progress"}}, "1/1 Fix it"},
	} {
		if got := TodoProgress(c.items); got != c.want {
			t.Errorf("TodoProgress(%+v) = %q, want %q", c.items, got, c.want)
		}
	}
}

// TestTaskToolResults: the task tools' results (shapes measured on claude
// 2.1.332) change the list; a failed update or an unknown id does not
// lose what is known.
func TestTaskToolResults(t *testing.T) {
	call := func(name, input string) ToolUse { return ToolUse{Name: name, Input: json.RawMessage(input)} }
	var list []Todo
	list = applyTodoResult(list, call("TaskCreate", `{"subject":"A","description":"x","activeForm":"Doing A"}`), json.RawMessage(`{"task":{"id":"1","subject":"A","description":"x"}}`))
	list = applyTodoResult(list, call("TaskUpdate", `{"taskId":"1","status":"in_progress"}`), json.RawMessage(`{"success":true,"taskId":"1","updatedFields":["status"]}`))
	list = applyTodoResult(list, call("TaskUpdate", `{"taskId":"1","status":"completed"}`), json.RawMessage(`{"success":false,"taskId":"1","error":"no"}`))
	list = applyTodoResult(list, call("TaskUpdate", `{"taskId":"7","subject":"Seven","status":"pending"}`), json.RawMessage(`{"success":true,"taskId":"7"}`))
	want := []Todo{{ID: "1", Content: "A", Status: "in_progress", ActiveForm: "Doing A"}, {ID: "7", Content: "Seven", Status: "pending"}}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("list = %+v, want %+v", list, want)
	}
	list = applyTodoResult(list, call("TaskList", `{}`), json.RawMessage(`{"tasks":[{"id":"1","subject":"A","status":"completed","blockedBy":[]}]}`))
	if want := []Todo{{ID: "1", Content: "A", Status: "completed", ActiveForm: "Doing A"}}; !reflect.DeepEqual(list, want) {
		t.Fatalf("after TaskList: %+v", list)
	}
	list = applyTodoResult(list, call("TaskUpdate", `{"taskId":"1","status":"deleted"}`), json.RawMessage(`{"success":true,"taskId":"1"}`))
	if len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
	// TodoWrite without a result object: the input's list.
	list = applyTodoResult(nil, call("TodoWrite", `{"todos":[{"content":"x","status":"pending","activeForm":"Xing"}]}`), json.RawMessage(`"Error?"`))
	if want := []Todo{{Content: "x", Status: "pending", ActiveForm: "Xing"}}; !reflect.DeepEqual(list, want) {
		t.Fatalf("TodoWrite from its input: %+v", list)
	}
}
