package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the repository's root, from this package's folder.
const root = "../../.."

// TestCommittedFilesAreGenerated fails when a generated file differs from
// what the Go types of server/lspext generate: run `make generate`.
func TestCommittedFilesAreGenerated(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{schemaFile, tsFile, luaFile} {
		want, ok := files[name]
		if !ok {
			t.Fatalf("%s is not generated", name)
		}
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%v: run `make generate`", err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from what server/lspext generates; run `make generate` (- committed, + generated):\n%s",
				name, lineDiff(string(got), string(want), 40))
		}
	}
}

// lineDiff shows where a and b differ, as unified-diff lines with two
// lines of context, at most max lines.
func lineDiff(a, b string, max int) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// The longest common subsequence, by dynamic programming from the end.
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max2(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
		at   int
	}
	var ops []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, line{' ', x[i], i + 1})
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, line{'-', x[i], i + 1})
			i++
		default:
			ops = append(ops, line{'+', y[j], i + 1})
			j++
		}
	}
	var out []string
	last := -10
	for k, o := range ops {
		near := false
		for d := -2; d <= 2; d++ {
			if k+d >= 0 && k+d < len(ops) && ops[k+d].op != ' ' {
				near = true
			}
		}
		if !near {
			continue
		}
		if k != last+1 {
			out = append(out, fmt.Sprintf("@@ line %d @@", o.at))
		}
		last = k
		out = append(out, string(o.op)+o.text)
		if len(out) >= max {
			out = append(out, "…")
			break
		}
	}
	return strings.Join(out, "\n")
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nD\ne\nf\ng", 20)
	want := "@@ line 2 @@\n b\n c\n-d\n+D\n e\n f"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// schemaDoc is the part of the schema the README test reads.
type schemaDoc struct {
	Commands      map[string]json.RawMessage `json:"x-commands"`
	Notifications map[string]json.RawMessage `json:"x-notifications"`
	Requests      map[string]json.RawMessage `json:"x-requests"`
	Defs          map[string]struct {
		OneOf []struct {
			Ref string `json:"$ref"`
		} `json:"oneOf"`
		Properties map[string]struct {
			Const string `json:"const"`
		} `json:"properties"`
	} `json:"$defs"`
}

// TestREADMEAndSchemaAgree: the commands, notifications and requests, event
// kinds (with their fields) and settings the README's protocol and configuration
// sections list are those of the schema, no more and no fewer.
func TestREADMEAndSchemaAgree(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	var schema schemaDoc
	if err := json.Unmarshal(files[schemaFile], &schema); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := parseREADME(t, string(readme))

	if !strings.Contains(doc.protocol, schemaFile) {
		t.Errorf("README's protocol section does not name %s as the reference", schemaFile)
	}
	same(t, "commands (bold headings under ### Commands)", doc.commands, keys(schema.Commands))
	// The claude/… methods the protocol section names are the bridge's own
	// notifications and requests (its other requests are LSP's).
	methods := keys(schema.Notifications)
	for m := range schema.Requests {
		if strings.HasPrefix(m, "claude/") {
			methods = append(methods, m)
		}
	}
	same(t, "notifications and requests (claude/… in the protocol section)", doc.notifications, methods)

	events := map[string][]string{} // kind → fields
	for _, ref := range schema.Defs["BridgeEvent"].OneOf {
		def := schema.Defs[strings.TrimPrefix(ref.Ref, "#/$defs/")]
		kind := def.Properties["kind"].Const
		for name := range def.Properties {
			if name != "taskId" && name != "seq" && name != "kind" {
				events[kind] = append(events[kind], name)
			}
		}
	}
	same(t, "event kinds (the table under ### Events)", keys(doc.events), keys(events))
	for kind, fields := range doc.events {
		if _, ok := events[kind]; ok {
			same(t, "fields of the "+kind+" event", fields, events[kind])
		}
	}
	same(t, "settings (the table under ## Configuration)", doc.settings, keys(schema.Defs["Configuration"].Properties))
	same(t, "auth settings (the table under The `auth` settings)", doc.authSettings, keys(schema.Defs["AuthConfiguration"].Properties))
}

type readmeDoc struct {
	protocol                string
	commands, notifications []string
	events                  map[string][]string
	settings, authSettings  []string
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	notifName  = regexp.MustCompile("`(claude/[A-Za-z]+)`")
	boldCmd    = regexp.MustCompile("(?m)^\\*\\*`(claude\\.[A-Za-z]+)`\\*\\*")
)

// parseREADME reads the protocol section (## The protocol) and the
// configuration tables of the README.
func parseREADME(t *testing.T, readme string) readmeDoc {
	var d readmeDoc
	d.protocol = section(readme, "## The protocol")
	if d.protocol == "" {
		t.Fatal("README has no ## The protocol section")
	}
	for _, m := range boldCmd.FindAllStringSubmatch(section(d.protocol, "### Commands"), -1) {
		d.commands = append(d.commands, m[1])
	}
	for _, m := range notifName.FindAllStringSubmatch(d.protocol, -1) {
		d.notifications = append(d.notifications, m[1])
	}
	d.events = map[string][]string{}
	for _, row := range tableRows(section(d.protocol, "### Events")) {
		kind := firstBackticked(row[0])
		for _, item := range splitTopLevel(row[1]) {
			if f := firstBackticked(item); f != "" {
				d.events[kind] = append(d.events[kind], f)
			}
		}
	}
	for _, row := range tableRows(section(readme, "## Configuration")) {
		for _, m := range backticked.FindAllStringSubmatch(row[0], -1) {
			d.settings = append(d.settings, m[1])
		}
	}
	auth := readme[strings.Index(readme, "The `auth` settings:"):]
	for _, row := range tableRows(auth) {
		d.authSettings = append(d.authSettings, firstBackticked(row[0]))
	}
	return d
}

// section is the text of the section a heading starts, up to the next
// heading of the same or a higher level.
func section(text, heading string) string {
	i := strings.Index(text, "\n"+heading)
	if i < 0 {
		return ""
	}
	rest := text[i+1+len(heading):]
	level := strings.Count(strings.Fields(heading)[0], "#")
	for _, prefix := range []string{"\n# ", "\n## ", "\n### "}[:level] {
		if j := strings.Index(rest, prefix); j >= 0 {
			rest = rest[:j]
		}
	}
	return rest
}

// tableRows are the cells of the first Markdown table in text, without
// its header row.
func tableRows(text string) [][]string {
	var rows [][]string
	started := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
			continue
		}
		rows = append(rows, cells)
	}
	if len(rows) > 0 {
		rows = rows[1:] // the header
	}
	return rows
}

// splitTopLevel splits a table cell at the commas outside parentheses and
// backticks: "`a` (x, y), `b`" → ["`a` (x, y)", "`b`"].
func splitTopLevel(s string) []string {
	var out []string
	depth, tick, start := 0, false, 0
	for i, r := range s {
		switch {
		case r == '`':
			tick = !tick
		case tick:
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func firstBackticked(s string) string {
	if m := backticked.FindStringSubmatch(strings.TrimSpace(s)); m != nil && strings.HasPrefix(strings.TrimSpace(s), "`") {
		return m[1]
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// same fails when the README's list and the schema's differ, naming what
// each lacks.
func same(t *testing.T, what string, readme, schema []string) {
	t.Helper()
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	var notInSchema, notInREADME []string
	for _, r := range readme {
		if !in(schema, r) && !in(notInSchema, r) {
			notInSchema = append(notInSchema, r)
		}
	}
	for _, s := range schema {
		if !in(readme, s) {
			notInREADME = append(notInREADME, s)
		}
	}
	sort.Strings(notInSchema)
	sort.Strings(notInREADME)
	if len(readme) == 0 {
		t.Errorf("%s: the README lists none (has its layout changed?)", what)
	}
	if len(notInSchema) > 0 {
		t.Errorf("%s: the README lists %v, which the schema lacks", what, notInSchema)
	}
	if len(notInREADME) > 0 {
		t.Errorf("%s: the schema has %v, which the README does not list", what, notInREADME)
	}
}
