package lspext_test

// The claude/event encodings of the server as phase 1 of issue 12 found
// them (server/events.go eventParams, server/task.go textEvent), kept as
// the reference the types must reproduce and the baseline of
// BenchmarkEncode. Delete this file when the server encodes lspext's types.

import "encoding/json"

// todayText is server/task.go's textEvent.
type todayText struct {
	TaskID    string `json:"taskId"`
	Seq       int64  `json:"seq"`
	Kind      string `json:"kind"`
	MessageID string `json:"messageId"`
	Text      string `json:"text"`
}

// todayMap is what server/events.go's eventParams builds for kind, plus
// the header server/task.go's send adds.
func todayMap(taskID string, seq int64, kind string, fields map[string]any) map[string]any {
	fields["taskId"] = taskID
	fields["seq"] = seq
	fields["kind"] = kind
	return fields
}

// todayToolUse is eventParams' toolUse map.
func todayToolUse(id, name string, input json.RawMessage, summary string) map[string]any {
	return map[string]any{"toolUseId": id, "name": name, "input": input, "summary": summary}
}
