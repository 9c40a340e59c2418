package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The Neovim plugin reads the protocol's messages as Lua tables, and Lua
// does not check a field name: a field renamed in server/lspext is a nil
// in the plugin. lua-language-server would check the LuaCATS annotations
// (types.lua) but is not packaged where the tests run, so this test does
// the part that matters here: in every function whose parameter is
// annotated with a class of types.lua (`---@param ev
// claude_bridge.TextEvent`), and after every `---@cast res
// claude_bridge.AuthStatus|nil` or `---@type` of a local, each field the
// plugin reads of that value (ev.messageId, ev['text'], res.keyFile.path,
// a TaskInfo[]'s res[i].status, the loop variable of ipairs(res)) must be
// a field its class declares. A union (claude_bridge.BridgeEvent) has the
// fields of all its members.

// TestNeovimPluginReadsDeclaredFields: the plugin reads no field the
// generated types.lua does not declare (issue 12: TextEvent.messageId
// renamed, the plugin still read ev.messageId and luacheck passed).
func TestNeovimPluginReadsDeclaredFields(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	classes := parseLuaTypes(string(files[luaFile]))
	sources := pluginSources(t)
	problems, checked := checkLuaFields(classes, sources)
	for _, p := range problems {
		t.Error(p)
	}
	// The annotations are what the check follows: the plugin's handlers
	// of every kind of message keep them.
	for _, class := range []string{"BridgeEvent", "QueuedEvent", "StartedEvent", "TextEvent", "ThinkingEvent", "ToolUseEvent",
		"ToolResultEvent", "PermissionEvent", "RetryEvent", "StatusEvent", "OtherEvent", "ResultEvent", "EditConflictParams",
		"AuthChangedParams", "PermissionRequestParams", "RunResult", "CancelResult", "TaskInfo", "AuthStatus"} {
		if checked[class] == 0 {
			t.Errorf("the plugin reads no field of a value annotated claude_bridge.%s: an annotation is missing, or the check cannot see it", class)
		}
	}
}

// TestNeovimFieldCheckFindsARename: with TextEvent's messageId renamed
// (as `make generate` would write types.lua after the Go field's rename),
// the check names the plugin's reads of ev.messageId.
func TestNeovimFieldCheckFindsARename(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	types := string(files[luaFile])
	i := strings.Index(types, "---@class claude_bridge.TextEvent\n")
	if i < 0 {
		t.Fatal("types.lua has no TextEvent class")
	}
	j := i + strings.Index(types[i:], "---@field messageId ")
	renamed := types[:j] + strings.Replace(types[j:], "---@field messageId ", "---@field assistantMessageId ", 1)
	problems, _ := checkLuaFields(parseLuaTypes(renamed), pluginSources(t))
	found := false
	for _, p := range problems {
		found = found || strings.Contains(p, "transcript.lua") && strings.Contains(p, "ev.messageId") && strings.Contains(p, "TextEvent")
	}
	if !found {
		t.Errorf("the renamed field was not found; the check said: %q", problems)
	}
	// And a read of a local typed by ---@type: the path of the claude CLI
	// in claude.authStatus's reply (health.lua).
	j = strings.Index(renamed, "---@class claude_bridge.ClaudeCLI\n")
	k := j + strings.Index(renamed[j:], "---@field path? ")
	renamed = renamed[:k] + strings.Replace(renamed[k:], "---@field path? ", "---@field executable? ", 1)
	problems, _ = checkLuaFields(parseLuaTypes(renamed), pluginSources(t))
	found = false
	for _, p := range problems {
		found = found || strings.Contains(p, "health.lua") && strings.Contains(p, "found.path") && strings.Contains(p, "ClaudeCLI")
	}
	if !found {
		t.Errorf("a read of a local typed by ---@type was not checked; the check said: %q", problems)
	}
}

// TestNeovimFieldCheckFollowsLoopsAndLocals: a field renamed is found
// where the plugin reaches the value through ipairs over a typed array
// (for _, t in ipairs(todos)), through a local given a typed field
// (local todos = ev.todos or {}; local questions = params.questions or
// {}; local first = questions[1]) and through ipairs over a field read
// (ipairs(ev.questions or {})): issue 12's verifier renamed Todo's
// activeForm and the check passed while transcript.lua read t.activeForm.
func TestNeovimFieldCheckFollowsLoopsAndLocals(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	types := string(files[luaFile])
	rename := func(class, from, to string) string {
		i := strings.Index(types, "---@class claude_bridge."+class+"\n")
		if i < 0 {
			t.Fatalf("types.lua has no class %s", class)
		}
		j := i + strings.Index(types[i:], "---@field "+from)
		if j < i {
			t.Fatalf("%s has no field %s", class, from)
		}
		return types[:j] + strings.Replace(types[j:], "---@field "+from, "---@field "+to, 1)
	}
	if problems, _ := checkLuaFields(parseLuaTypes(types), pluginSources(t)); len(problems) > 0 {
		t.Fatalf("before the renames: %q", problems)
	}
	for _, c := range []struct {
		class, from, to string
		want            []string // file and read, each in some problem
	}{
		{"Todo", "activeForm?", "activity?", []string{"transcript.lua", "t.activeForm"}},
		{"Todo", "status ", "state ", []string{"transcript.lua", "t.status"}},
		{"Question", "header ", "title ", []string{"transcript.lua", "q.header"}},
		{"Question", "header ", "title ", []string{"questions.lua", "first.header"}},
		{"Question", "question ", "text ", []string{"transcript.lua", "q.question"}},
	} {
		problems, _ := checkLuaFields(parseLuaTypes(rename(c.class, c.from, c.to)), pluginSources(t))
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, c.want[0]) && strings.Contains(p, c.want[1]+":") && strings.Contains(p, c.class)
		}
		if !found {
			t.Errorf("%s.%s renamed: no problem names %s %s; the check said %q", c.class, c.from, c.want[0], c.want[1], problems)
		}
	}
}

// pluginSources are the plugin's Lua files but types.lua, by path.
func pluginSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range []string{"editors/nvim/lua/claude_bridge", "editors/nvim/plugin"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := filepath.Join(dir, e.Name())
			if !strings.HasSuffix(name, ".lua") || name == luaFile {
				continue
			}
			b, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			out[name] = string(b)
		}
	}
	return out
}

// luaClass is a class of types.lua (fields by name → type), or an alias
// that is a union of classes.
type luaClass struct {
	fields  map[string]string
	members []string // an alias's classes
}

var (
	classLine = regexp.MustCompile(`^---@class claude_bridge\.(\w+)`)
	aliasLine = regexp.MustCompile(`^---@alias claude_bridge\.(\w+)`)
	fieldLine = regexp.MustCompile(`^---@field (\w+)\??\s+(\S+)`)
	memberRef = regexp.MustCompile(`^---\| claude_bridge\.(\w+)`)
)

func parseLuaTypes(text string) map[string]*luaClass {
	classes := map[string]*luaClass{}
	var cur *luaClass
	for _, line := range strings.Split(text, "\n") {
		switch {
		case classLine.MatchString(line):
			cur = &luaClass{fields: map[string]string{}}
			classes[classLine.FindStringSubmatch(line)[1]] = cur
		case aliasLine.MatchString(line):
			cur = &luaClass{fields: map[string]string{}}
			classes[aliasLine.FindStringSubmatch(line)[1]] = cur
		case cur != nil && fieldLine.MatchString(line):
			m := fieldLine.FindStringSubmatch(line)
			cur.fields[m[1]] = m[2]
		case cur != nil && memberRef.MatchString(line):
			cur.members = append(cur.members, memberRef.FindStringSubmatch(line)[1])
		case !strings.HasPrefix(line, "---"):
			cur = nil
		}
	}
	return classes
}

// luaVal is a value's type as far as the check follows it: a class (or
// union) of types.lua, or an array of one.
type luaVal struct {
	class string
	array bool
}

// parseType reads an annotation's type: "claude_bridge.TaskInfo[]|nil".
func parseType(s string) *luaVal {
	s = strings.TrimSuffix(strings.TrimSpace(s), "|nil")
	name, ok := strings.CutPrefix(s, "claude_bridge.")
	if !ok {
		return nil
	}
	t := &luaVal{class: name}
	if n, ok := strings.CutSuffix(name, "[]"); ok {
		t.class, t.array = n, true
	}
	if strings.ContainsAny(t.class, "|[]<>") {
		return nil
	}
	return t
}

// fieldType is the type of a class's field, and whether the class has it
// (in a union: whether any member has it).
func fieldType(classes map[string]*luaClass, class, field string) (*luaVal, bool) {
	c := classes[class]
	if c == nil {
		return nil, true // not one of the protocol's: not checked
	}
	if len(c.members) > 0 {
		var found *luaVal
		ok := false
		for _, m := range c.members {
			if ft, has := fieldType(classes, m, field); has && classes[m] != nil && classes[m].fields[field] != "" {
				ok = true
				if found == nil {
					found = ft
				}
			}
		}
		return found, ok
	}
	ft, ok := c.fields[field]
	if !ok {
		return nil, false
	}
	return parseType(ft), true
}

// luaToken is a token of Lua source: an identifier (or keyword), a string
// (its value), punctuation, or an annotation comment (---@...).
type luaToken struct {
	kind byte // 'i' identifier, 's' string, 'p' punctuation, 'a' annotation
	text string
	line int
}

// tokenizeLua splits Lua source into tokens, comments dropped but
// annotations kept.
func tokenizeLua(src string) []luaToken {
	var out []luaToken
	line := 1
	longEnd := func(i int) (level int, ok bool) { // at "[", "[==["
		j := i + 1
		for j < len(src) && src[j] == '=' {
			j++
		}
		if j < len(src) && src[j] == '[' {
			return j - i - 1, true
		}
		return 0, false
	}
	skipLong := func(i, level int) int { // i after the opening bracket
		closing := "]" + strings.Repeat("=", level) + "]"
		k := strings.Index(src[i:], closing)
		if k < 0 {
			line += strings.Count(src[i:], "\n")
			return len(src)
		}
		line += strings.Count(src[i:i+k], "\n")
		return i + k + len(closing)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "--"):
			if strings.HasPrefix(src[i:], "---@") {
				end := strings.IndexByte(src[i:], '\n')
				if end < 0 {
					end = len(src) - i
				}
				out = append(out, luaToken{'a', src[i+4 : i+end], line})
				i += end
				continue
			}
			if src[i+2:] != "" && src[i+2] == '[' {
				if level, ok := longEnd(i + 2); ok {
					i = skipLong(i+2+level+2, level)
					continue
				}
			}
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			i += end
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, luaToken{'s', b.String(), line})
			i = j + 1
		case c == '[':
			if level, ok := longEnd(i); ok {
				start := i + level + 2
				before := line
				i = skipLong(start, level)
				out = append(out, luaToken{'s', "", before})
				continue
			}
			out = append(out, luaToken{'p', "[", line})
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, luaToken{'i', src[i:j], line})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (src[j] == '.' || src[j] == 'x' || src[j] >= '0' && src[j] <= '9' || src[j] >= 'a' && src[j] <= 'f' || src[j] >= 'A' && src[j] <= 'F') {
				j++
			}
			i = j
		case strings.HasPrefix(src[i:], ".."):
			j := i
			for j < len(src) && src[j] == '.' {
				j++
			}
			out = append(out, luaToken{'p', src[i:j], line})
			i = j
		default:
			out = append(out, luaToken{'p', string(c), line})
			i++
		}
	}
	return out
}

var annotation = regexp.MustCompile(`^(param|cast)\s+(\w+)\s+(\S+)|^type\s+(\S+)`)

// checkLuaFields checks the sources against the classes; it returns the
// problems found and, by class, how many reads it checked.
func checkLuaFields(classes map[string]*luaClass, sources map[string]string) (problems []string, checked map[string]int) {
	checked = map[string]int{}
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		toks := tokenizeLua(sources[name])
		type block struct {
			vars  map[string]*luaVal
			until bool // a repeat block, closed by until
		}
		stack := []*block{{vars: map[string]*luaVal{}}}
		lookup := func(v string) *luaVal {
			for i := len(stack) - 1; i >= 0; i-- {
				if t, ok := stack[i].vars[v]; ok {
					return t
				}
			}
			return nil
		}
		params := map[string]*luaVal{} // @param annotations for the next function
		var typeNext *luaVal           // @type for the next local
		var loopVar string             // for _, x in ipairs(typed): x is an element
		var loopType *luaVal
		// follow follows the reads from the variable at toks[i] of type
		// t: v.a, v['a'], v[i] (an array's element), checking each field
		// against its class when check; it returns the type reached
		// (nil when unknown) and the index of the token after the reads.
		follow := func(i int, t *luaVal, check bool) (*luaVal, int) {
			path := toks[i].text
			j := i + 1
			for j < len(toks) && t != nil {
				var field string
				switch {
				case toks[j].text == "." && toks[j].kind == 'p' && j+1 < len(toks) && toks[j+1].kind == 'i':
					field, j = toks[j+1].text, j+2
				case toks[j].text == "[" && toks[j].kind == 'p' && j+2 < len(toks) && toks[j+1].kind == 's' && toks[j+2].text == "]":
					field, j = toks[j+1].text, j+3
				case toks[j].text == "[" && toks[j].kind == 'p' && t.array:
					depth := 0
					for ; j < len(toks); j++ {
						if toks[j].text == "[" {
							depth++
						} else if toks[j].text == "]" {
							if depth--; depth == 0 {
								break
							}
						}
					}
					j++
					t = &luaVal{class: t.class}
					path += "[…]"
					continue
				default:
					return t, j
				}
				if t.array {
					return nil, j
				}
				ft, ok := fieldType(classes, t.class, field)
				if check {
					checked[t.class]++
					if !ok {
						problems = append(problems, fmt.Sprintf("%s:%d: %s.%s: claude_bridge.%s has no field %q (types.lua)", name, toks[i].line, path, field, t.class, field))
						return nil, j
					}
				}
				path += "." + field
				t = ft
			}
			return t, j
		}
		// exprType is the type of the expression starting at toks[i] when
		// it is a typed variable or a field read of one, alone or before
		// `or` (ev.todos or {}); nil otherwise (a call, an operation).
		exprType := func(i int) *luaVal {
			if i >= len(toks) || toks[i].kind != 'i' {
				return nil
			}
			t := lookup(toks[i].text)
			if t == nil {
				return nil
			}
			t, j := follow(i, t, false)
			if j >= len(toks) {
				return t
			}
			switch next := toks[j]; {
			case next.kind == 'i' && next.text != "and": // or, or the next statement
				return t
			case next.kind == 'p' && strings.Contains("),;}", next.text):
				return t
			}
			return nil
		}
		for i := 0; i < len(toks); i++ {
			tk := toks[i]
			prev := luaToken{}
			if i > 0 {
				prev = toks[i-1]
			}
			switch {
			case tk.kind == 'a':
				m := annotation.FindStringSubmatch(tk.text)
				switch {
				case m == nil:
				case m[1] == "param":
					params[m[2]] = parseType(m[3])
				case m[1] == "cast":
					stack[len(stack)-1].vars[m[2]] = parseType(m[3])
				default:
					typeNext = parseType(m[4])
				}
				continue
			case tk.kind != 'i':
				continue
			}
			switch tk.text {
			case "function":
				b := &block{vars: map[string]*luaVal{}}
				// Its parameters shadow what is outside, typed by @param.
				j := i + 1
				for j < len(toks) && !(toks[j].kind == 'p' && toks[j].text == "(") {
					j++
				}
				for j++; j < len(toks) && !(toks[j].kind == 'p' && toks[j].text == ")"); j++ {
					if toks[j].kind == 'i' {
						b.vars[toks[j].text] = params[toks[j].text]
					}
				}
				params = map[string]*luaVal{}
				stack = append(stack, b)
				i = j
				continue
			case "if", "do":
				b := &block{vars: map[string]*luaVal{}}
				if tk.text == "do" && loopVar != "" {
					b.vars[loopVar] = loopType
					loopVar, loopType = "", nil
				}
				stack = append(stack, b)
				continue
			case "repeat":
				stack = append(stack, &block{vars: map[string]*luaVal{}, until: true})
				continue
			case "end", "until":
				if len(stack) > 1 {
					stack = stack[:len(stack)-1]
				}
				continue
			case "for":
				// for _, x in ipairs(e) do, or pairs(e): x is an element
				// of the typed array e is (a variable, or a field read of
				// one: ipairs(ev.todos or {})).
				if i+7 < len(toks) && toks[i+2].text == "," && toks[i+4].text == "in" &&
					(toks[i+5].text == "ipairs" || toks[i+5].text == "pairs") && toks[i+6].text == "(" {
					if t := exprType(i + 7); t != nil && t.array {
						loopVar, loopType = toks[i+3].text, &luaVal{class: t.class}
					}
				}
				continue
			case "local":
				// local x, y = ...: new variables, the first typed by a
				// @type before it, else by the value it is given when
				// that is a typed variable or a field read of one
				// (local todos = ev.todos or {}; local first = questions[1]).
				typ := typeNext
				if typ == nil {
					j := i + 1
					for j < len(toks) && (toks[j].kind == 'i' || toks[j].text == ",") {
						j++
					}
					if j+1 < len(toks) && toks[j].text == "=" {
						typ = exprType(j + 1)
					}
				}
				for j := i + 1; j < len(toks) && toks[j].kind == 'i'; j += 2 {
					if toks[j].text == "function" {
						break
					}
					stack[len(stack)-1].vars[toks[j].text] = typ
					typ = nil
					if j+1 >= len(toks) || toks[j+1].text != "," {
						break
					}
				}
				typeNext = nil
				continue
			}
			if prev.kind == 'p' && (prev.text == "." || prev.text == ":") {
				continue // a field of something else
			}
			t := lookup(tk.text)
			if t == nil {
				continue
			}
			follow(i, t, true)
		}
	}
	return problems, checked
}
