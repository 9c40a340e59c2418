package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// genStats says what a generated stream holds, and so what the editor
// should receive for it.
type genStats struct {
	lines       int
	bytes       int64
	textDeltas  int             // text_delta stream events: at most one `text` claude/event each (the bridge may coalesce them)
	allText     strings.Builder // every text delta, joined: what the text events must add up to
	toolUses    int             // assistant tool_use blocks: one `toolUse` each
	toolResults int             // user tool_result blocks: one `toolResult` each
	turns       int
	finalText   string
}

// events is the number of claude/event notifications a task streaming this
// file gets at most: queued, started, the texts, tool uses and results, and
// result.
func (g genStats) events() int { return 3 + g.textDeltas + g.toolUses + g.toolResults }

// otherEvents is the number of claude/event notifications that are not text.
func (g genStats) otherEvents() int { return 3 + g.toolUses + g.toolResults }

// streamGen writes stream-json lines shaped like the claude CLI's
// (2.1.332, --verbose --include-partial-messages; see
// /work/shared/reference/claude-code-2.1.332/*.jsonl): an init line, then
// agent turns (a status line, the message's stream events with text and
// input_json deltas, an assistant line per content block, a user line with
// the tool's result), and a result line last.
type streamGen struct {
	w       *bufio.Writer
	ws      string
	sid     string
	rng     *rand.Rand
	n       int
	st      genStats
	words   []string
	wordPos int
	err     error
	lineBuf []byte
}

func (g *streamGen) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a>>32), uint16(a>>16), 0x4000|uint16(a)&0x0fff, 0x8000|uint16(b>>48)&0x3fff, b&0xffffffffffff)
}

// emit writes one line from key/value pairs, in their order: the CLI puts
// "type" first, where a Go map would sort the keys.
func (g *streamGen) emit(kv ...any) {
	if g.err != nil {
		return
	}
	buf := g.lineBuf[:0]
	buf = append(buf, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, _ := json.Marshal(kv[i])
		v, err := json.Marshal(kv[i+1])
		if err != nil {
			g.err = err
			return
		}
		buf = append(buf, k...)
		buf = append(buf, ':')
		buf = append(buf, v...)
	}
	buf = append(buf, '}', '\n')
	g.lineBuf = buf
	if _, err := g.w.Write(buf); err != nil {
		g.err = err
	}
	g.n++
	g.st.bytes += int64(len(buf))
}

// ordered is a JSON object with its keys in the given order.
type ordered []any

func (o ordered) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(o); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(o[i])
		v, err := json.Marshal(o[i+1])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (g *streamGen) streamEvent(msgID string, event ordered, extra ...any) {
	kv := []any{"type", "stream_event", "event", event, "session_id", g.sid, "parent_tool_use_id", nil, "uuid", g.uuid()}
	kv = append(kv, extra...)
	kv = append(kv, "api_message_id", msgID)
	g.emit(kv...)
}

var usage = ordered{"input_tokens", 5, "cache_creation_input_tokens", 0, "cache_read_input_tokens", 2048, "output_tokens", 1}

func (g *streamGen) assistant(msgID string, content ...ordered) {
	g.emit("type", "assistant",
		"message", ordered{"id", msgID, "type", "message", "role", "assistant", "model", "claude-opus-5-5",
			"content", content, "stop_reason", nil, "stop_sequence", nil, "usage", usage, "context_management", nil},
		"parent_tool_use_id", nil, "session_id", g.sid, "uuid", g.uuid(), "timestamp", "2026-11-27T11:52:21.571Z")
}

// nextText returns the next deltas of prose (the stand-in's long text), a
// few words (12 bytes or more, about 3 tokens) each.
func (g *streamGen) nextText(deltas int) []string {
	out := make([]string, 0, deltas)
	for len(out) < deltas {
		var b strings.Builder
		for b.Len() < 12 {
			w := g.words[g.wordPos%len(g.words)]
			g.wordPos++
			b.WriteString(w)
			b.WriteByte(' ')
		}
		out = append(out, b.String())
	}
	return out
}

// tool is one tool call of the generated conversation and its result.
type tool struct {
	name   string
	input  ordered
	result string  // the tool_result content
	extra  ordered // tool_use_result
}

func (g *streamGen) tools() []tool {
	mainGo := filepath.Join(g.ws, "main.go")
	var src strings.Builder
	for i := 1; i <= 120; i++ {
		fmt.Fprintf(&src, "\tfmt.Println(\"line %d of a file the agent reads, with some code on it\") // %d\n", i, i*7)
	}
	file := "package main\n\nimport \"fmt\"\n\nfunc main() {\n" + src.String() + "}\n"
	var numbered strings.Builder
	for i, l := range strings.Split(file, "\n") {
		fmt.Fprintf(&numbered, "%d\t%s\n", i+1, l)
	}
	return []tool{{
		name:   "Read",
		input:  ordered{"file_path", mainGo},
		result: numbered.String(),
		extra:  ordered{"type", "text", "file", ordered{"filePath", mainGo, "content", file, "numLines", 126, "startLine", 1, "totalLines", 126}},
	}, {
		name:   "Edit",
		input:  ordered{"replace_all", false, "file_path", mainGo, "old_string", `println("hello")`, "new_string", `println("hello, bridge")`},
		result: "The file " + mainGo + " has been updated successfully. (file state is current in your context — no need to Read it back)",
		extra: ordered{"filePath", mainGo, "oldString", `println("hello")`, "newString", `println("hello, bridge")`, "originalFile", mainGoText,
			"structuredPatch", []ordered{{"oldStart", 1, "oldLines", 5, "newStart", 1, "newLines", 5, "lines", []string{" package main", " ", " func main() {", "-  println(\"hello\")", "+  println(\"hello, bridge\")", " }"}}},
			"userModified", false, "replaceAll", false},
	}, {
		name:   "Bash",
		input:  ordered{"command", "go test ./...", "description", "Run the tests"},
		result: "ok  \texample.com/demo\t0.012s\nok  \texample.com/demo/internal/greet\t0.004s",
		extra:  ordered{"stdout", "ok  \texample.com/demo\t0.012s\nok  \texample.com/demo/internal/greet\t0.004s", "stderr", "", "interrupted", false, "isImage", false, "noOutputExpected", false},
	}, {
		name:   "Grep",
		input:  ordered{"pattern", "func main", "path", g.ws, "output_mode", "content"},
		result: mainGo + ":3:func main() {",
		extra:  ordered{"mode", "content", "numFiles", 1, "filenames", []string{}, "content", mainGo + ":3:func main() {", "numLines", 1},
	}}
}

const mainGoText = "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"

// generateStream writes about lines stream-json lines to path.
func generateStream(path, ws string, lines int) (genStats, error) {
	f, err := os.Create(path)
	if err != nil {
		return genStats{}, err
	}
	defer f.Close()
	g := &streamGen{w: bufio.NewWriterSize(f, 1<<20), ws: ws, rng: rand.New(rand.NewPCG(1, 2)),
		words: strings.Fields(fakeapi.LongText(5000))}
	g.sid = g.uuid()

	g.emit("type", "system", "subtype", "init", "cwd", ws, "session_id", g.sid,
		"tools", []string{"Task", "Bash", "CronCreate", "CronDelete", "CronList", "Edit", "EnterWorktree", "ExitWorktree", "ListAgents", "Monitor", "NotebookEdit", "Read", "ReportFindings", "ScheduleWakeup", "SendMessage", "Skill", "TaskStop", "ToolSearch", "WebFetch", "WebSearch", "Workflow", "Write"},
		"mcp_servers", []string{}, "model", "claude-opus-5-5", "permissionMode", "acceptEdits",
		"slash_commands", []string{"deep-research", "dataviz", "update-config", "verify", "debug", "code-review", "simplify", "batch", "fewer-permission-prompts", "doctor", "loop", "claude-api", "workflow-authoring", "run", "agents", "clear", "compact", "config", "context", "init", "mcp", "model", "review", "security-review", "usage"},
		"apiKeySource", "apiKeyHelper", "claude_code_version", "2.1.332", "output_style", "default",
		"agents", []string{"claude", "Explore", "general-purpose", "Plan", "statusline-setup"},
		"capabilities", []string{"interrupt_receipt_v1", "msg_lifecycle_v1", "request_marker_lists_v1", "sdk_mcp_tools_list_changed", "ui_surface_v1"},
		"analytics_disabled", true, "uuid", g.uuid(), "sandbox_enabled", false, "original_cwd", ws, "additional_directories", []string{},
		"fast_mode_state", "off", "view_mode", "default")

	tools := g.tools()
	const resultLines = 1
	for turn := 0; ; turn++ {
		msgID := fmt.Sprintf("msg_%d", turn)
		left := lines - g.n - resultLines
		// A turn with a tool takes its deltas plus about 16 other lines;
		// the last turn answers in text only and takes what is left.
		deltas := 120 + g.rng.IntN(240)
		last := left < deltas+40
		if last {
			deltas = left - 7
			if deltas < 1 {
				deltas = 1
			}
		}
		g.st.turns++
		g.emit("type", "system", "subtype", "status", "status", "requesting", "session_id", g.sid, "uuid", g.uuid())
		g.streamEvent(msgID, ordered{"type", "message_start", "message", ordered{"id", msgID, "type", "message", "role", "assistant", "model", "claude-opus-5-5",
			"content", []any{}, "stop_reason", nil, "stop_sequence", nil, "usage", usage}}, "ttft_ms", 13, "thinking_display", "updates")
		g.streamEvent(msgID, ordered{"type", "content_block_start", "index", 0, "content_block", ordered{"type", "text", "text", ""}})
		texts := g.nextText(deltas)
		for _, t := range texts {
			g.streamEvent(msgID, ordered{"type", "content_block_delta", "index", 0, "delta", ordered{"type", "text_delta", "text", t}})
		}
		g.st.textDeltas += len(texts)
		full := strings.Join(texts, "")
		g.st.allText.WriteString(full)
		g.assistant(msgID, ordered{"type", "text", "text", full})
		g.streamEvent(msgID, ordered{"type", "content_block_stop", "index", 0})
		if last {
			g.streamEvent(msgID, ordered{"type", "message_delta", "delta", ordered{"stop_reason", "end_turn", "stop_sequence", nil}, "usage", ordered{"output_tokens", deltas}})
			g.streamEvent(msgID, ordered{"type", "message_stop"})
			g.st.finalText = full
			break
		}
		tl := tools[turn%len(tools)]
		toolID := fmt.Sprintf("toolu_%d", turn)
		g.streamEvent(msgID, ordered{"type", "content_block_start", "index", 1, "content_block", ordered{"type", "tool_use", "id", toolID, "name", tl.name, "input", ordered{}}})
		in, _ := json.Marshal(tl.input)
		for i := 0; i < len(in); i += 24 {
			g.streamEvent(msgID, ordered{"type", "content_block_delta", "index", 1, "delta", ordered{"type", "input_json_delta", "partial_json", string(in[i:min(i+24, len(in))])}})
		}
		g.assistant(msgID, ordered{"type", "tool_use", "id", toolID, "name", tl.name, "input", tl.input})
		g.st.toolUses++
		g.streamEvent(msgID, ordered{"type", "content_block_stop", "index", 1})
		g.streamEvent(msgID, ordered{"type", "message_delta", "delta", ordered{"stop_reason", "tool_use", "stop_sequence", nil}, "usage", ordered{"output_tokens", deltas + 20}})
		g.streamEvent(msgID, ordered{"type", "message_stop"})
		g.emit("type", "user", "message", ordered{"role", "user", "content", []ordered{{"tool_use_id", toolID, "type", "tool_result", "content", tl.result}}},
			"parent_tool_use_id", nil, "session_id", g.sid, "uuid", g.uuid(), "timestamp", "2026-11-27T11:52:20.237Z",
			"tool_use_result", tl.extra,
			"tool_result_meta", []ordered{{"id", toolID, "permission_decision", ordered{"decision", "accept", "source", "config", "reason_type", "mode"}}})
		g.st.toolResults++
	}
	g.emit("type", "result", "subtype", "success", "is_error", false, "duration_ms", 61234, "duration_api_ms", 60111,
		"num_turns", g.st.turns, "result", g.st.finalText, "stop_reason", "end_turn", "session_id", g.sid, "total_cost_usd", 1.2345,
		"usage", ordered{"input_tokens", 5 * g.st.turns, "cache_creation_input_tokens", 0, "cache_read_input_tokens", 2048 * g.st.turns, "output_tokens", g.st.textDeltas * 3},
		"permission_denials", []any{}, "terminal_reason", "completed", "fast_mode_state", "off", "uuid", g.uuid())
	if g.err == nil {
		g.err = g.w.Flush()
	}
	g.st.lines = g.n
	return g.st, g.err
}
