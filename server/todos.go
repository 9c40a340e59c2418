package server

// setTodo records where claude's to-do list is ("3/7 Running the tests"; ""
// for an empty or finished list).
func (v *taskView) setTodo(label string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.todo = label
}

// withTodo puts where claude's to-do list is before a progress message
// ("3/7 Running the tests · Bash: go test ./..."), so that the current
// item stays in sight while claude works on it.
func (v *taskView) withTodo(msg string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.todo == "" {
		return msg
	}
	return v.todo + " · " + msg
}
