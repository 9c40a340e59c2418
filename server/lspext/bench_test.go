package lspext_test

import (
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// BenchmarkEncode encodes the two most frequent events the way
// lspstream.Notify does (segmentio's encoder): the text delta, which every
// streamed token takes, and a tool use. Each has today's encoding beside
// it (a small struct for text, a map for the others; today_test.go): the
// target is lspext's ns/op and allocs/op no higher than today's.
func BenchmarkEncode(b *testing.B) {
	const text = "Let me look at the handler first, then add the flag."
	b.Run("text/today-struct", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := fastjson.Marshal(&todayText{TaskID: "vscode-3f1c", Seq: int64(i), Kind: "text", MessageID: "msg_01XYZ", Text: text}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("text/lspext", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			ev := &lspext.TextEvent{MessageID: "msg_01XYZ", Text: text}
			if _, err := fastjson.Marshal(lspext.Stamp(ev, "vscode-3f1c", int64(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toolUse/today-map", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m := todayMap("vscode-3f1c", int64(i), "toolUse", todayToolUse("toolu_01", "Edit", toolInput, "Edit server/main.go"))
			if _, err := fastjson.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toolUse/lspext", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			ev := &lspext.ToolUseEvent{ToolUseID: "toolu_01", Name: "Edit", Input: toolInput, Summary: "Edit server/main.go"}
			if _, err := fastjson.Marshal(lspext.Stamp(ev, "vscode-3f1c", int64(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
