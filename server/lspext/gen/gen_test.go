package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/lspext"
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

// TestDescriptionsSpeakJSON: what the schema, the TypeScript and the Lua
// say of a field names fields by their JSON names, never by their Go
// names (a description written "Optional when SessionID is given" reads
// wrong to an editor's author), and has no Go words (pointers, omitempty,
// packages of the bridge).
func TestDescriptionsSpeakJSON(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	var goNames []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		lspext.ForEachField(t, func(f reflect.StructField, _ []int, name string, _ bool) {
			// A Go name that is not the JSON name capitalised (SessionID
			// for sessionId); all-capital ones (URI, OK) are words too.
			if f.Name != strings.ToUpper(name[:1])+name[1:] && f.Name != strings.ToUpper(f.Name) {
				goNames = append(goNames, f.Name)
			}
			walk(f.Type)
		})
	}
	for _, c := range lspext.CommandDefs {
		walk(c.Args)
		for _, r := range c.Results {
			walk(r)
		}
	}
	for _, k := range lspext.EventKinds {
		walk(reflect.TypeOf(lspext.NewEvent(k)))
	}
	for _, n := range lspext.NotificationDefs {
		walk(n.Params)
	}
	walk(reflect.TypeFor[lspext.Configuration]())
	if !strings.Contains(" "+strings.Join(goNames, " ")+" ", " SessionID ") {
		t.Fatalf("the Go field names looked for lack SessionID: %v", goNames)
	}
	bad := regexp.MustCompile(`\b(` + strings.Join(goNames, "|") + `|pointers?|omitempty|omitzero|struct)\b|runner[./]|lspext`)
	for name, content := range files {
		for i, line := range strings.Split(string(content), "\n") {
			if name == luaFile && strings.HasPrefix(line, "-- Code generated") || strings.Contains(line, "Generated from the Go types") ||
				strings.HasPrefix(line, "// Code generated") || strings.HasPrefix(line, "-- server/lspext") || strings.HasPrefix(line, "// server/lspext") {
				continue // the header says where the file comes from
			}
			if m := bad.FindString(line); m != "" {
				t.Errorf("%s:%d says %q: %.200s", name, i+1, m, strings.TrimSpace(line))
			}
		}
	}
}

// TestDescriptionsNameDefinitionsThatExist: a description of the schema
// that names one of lspext's types names a definition of the schema (a
// reader looks it up there), never a Go type the schema does not have
// (issue 12's verifier: BridgeEvent's description named EventHeader).
func TestDescriptionsNameDefinitionsThatExist(t *testing.T) {
	d, err := readDocs(filepath.Join(root, sourceDir))
	if err != nil {
		t.Fatal(err)
	}
	problems := namedButUndefined(t, d, nil)
	for _, p := range problems {
		t.Error(p)
	}
	// The check sees such a name.
	if got := namedButUndefined(t, d, map[string]string{"RunArgs": "Like EventHeader."}); len(got) != 1 || !strings.Contains(got[0], "EventHeader") {
		t.Errorf("a description naming EventHeader: %q", got)
	}
}

// namedButUndefined lists the descriptions of the generated schema (with
// the descriptions in extra put in place of the definitions') that name a
// type of lspext the schema has no definition of.
func namedButUndefined(t *testing.T, d *docs, extra map[string]string) []string {
	t.Helper()
	p, err := build(d)
	if err != nil {
		t.Fatal(err)
	}
	for name, desc := range extra {
		p.defs[name].Description = desc
	}
	b, err := p.schemaJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	word := regexp.MustCompile(`\b[A-Z][A-Za-z]+\b`)
	var problems []string
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if desc, ok := v["description"].(string); ok {
				for _, w := range word.FindAllString(desc, -1) {
					if _, isType := d.items[w]; isType && defs[w] == nil {
						problems = append(problems, fmt.Sprintf("%s: the description names %s, which the schema does not define: %.120s", where, w, desc))
					}
				}
			}
			for k, x := range v {
				walk(x, where+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walk(doc, "#")
	sort.Strings(problems)
	return problems
}
