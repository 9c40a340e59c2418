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

// schemaDef is the part of a schema definition the README test reads.
type schemaDef struct {
	Ref        string                `json:"$ref"`
	Items      *schemaDef            `json:"items"`
	OneOf      []*schemaDef          `json:"oneOf"`
	AnyOf      []*schemaDef          `json:"anyOf"`
	Properties map[string]*schemaDef `json:"properties"`
	Required   []string              `json:"required"`
	Const      string                `json:"const"`
	Defs       map[string]*schemaDef `json:"$defs"`
	// DependentRequired: with a field present, these others are too.
	DependentRequired map[string][]string `json:"dependentRequired"`
}

// UnmarshalJSON reads a schema; true and false (any value, none) are
// read as empty.
func (s *schemaDef) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); t == "true" || t == "false" {
		return nil
	}
	type plain schemaDef
	return json.Unmarshal(b, (*plain)(s))
}

type schemaDoc struct {
	Defs map[string]*schemaDef `json:"$defs"`
}

// resolve follows $ref and array items to the object definition a value
// of s is ("" when it is none).
func (d *schemaDoc) resolve(s *schemaDef) string {
	for s != nil {
		switch {
		case s.Ref != "":
			return strings.TrimPrefix(s.Ref, "#/$defs/")
		case s.Items != nil:
			s = s.Items
		default:
			return ""
		}
	}
	return ""
}

// reach adds to seen every definition name s reaches.
func (d *schemaDoc) reach(s *schemaDef, seen map[string]bool) {
	if s == nil {
		return
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/$defs/")
		if seen[name] {
			return
		}
		seen[name] = true
		s = d.Defs[name]
		if s == nil {
			return
		}
	}
	d.reach(s.Items, seen)
	for _, o := range append(append([]*schemaDef{}, s.OneOf...), s.AnyOf...) {
		d.reach(o, seen)
	}
	for _, p := range s.Properties {
		d.reach(p, seen)
	}
}

func loadSchema(t *testing.T) *schemaDoc {
	t.Helper()
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	var schema schemaDoc
	if err := json.Unmarshal(files[schemaFile], &schema); err != nil {
		t.Fatal(err)
	}
	return &schema
}

func readREADME(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(readme)
}

// TestREADMEAndSchemaAgree: the commands, notifications and requests, event
// kinds (with their fields) and settings the README's protocol and configuration
// sections list are those of the schema, no more and no fewer; and every
// field name the protocol section shows for a command's arguments and
// reply, a notification's params and a permission question's params is a
// field of the schema, said optional exactly when the schema's is (see
// checkFieldList for how the README says so).
func TestREADMEAndSchemaAgree(t *testing.T) {
	schema := loadSchema(t)
	doc := parseREADME(t, readREADME(t))
	if !strings.Contains(doc.protocol, schemaFile) {
		t.Errorf("README's protocol section does not name %s as the reference", schemaFile)
	}
	same(t, "commands (bold headings under ### Commands)", keys(doc.commands), keys(schema.Defs["commands"].Defs))
	// The claude/… methods the protocol section names are the bridge's own
	// notifications and requests (its other requests are LSP's).
	methods := keys(schema.Defs["notifications"].Defs)
	for _, m := range keys(schema.Defs["requests"].Defs) {
		if strings.HasPrefix(m, "claude/") {
			methods = append(methods, m)
		}
	}
	same(t, "notifications and requests (claude/… in the protocol section)", doc.notifications, methods)

	checkEvents(t, schema, doc)
	same(t, "settings (the table under ## Configuration)", doc.settings, keys(schema.Defs["Configuration"].Properties))
	same(t, "auth settings (the table under The `auth` settings)", doc.authSettings, keys(schema.Defs["AuthConfiguration"].Properties))

	// The field lists of each command: its arguments, its reply and what
	// they reach.
	for cmd, text := range doc.commands {
		def := schema.Defs["commands"].Defs[cmd]
		if def == nil {
			continue
		}
		candidates := map[string]bool{}
		schema.reach(def.Properties["arguments"], candidates)
		schema.reach(def.Properties["result"], candidates)
		lists := fieldLists(text)
		if len(lists) == 0 {
			t.Errorf("README: %s shows none of its fields", cmd)
		}
		for _, l := range lists {
			checkFieldList(t, schema, cmd, l, candidates)
		}
	}
	// Each notification's params.
	for method, text := range doc.notificationText {
		def := schema.Defs["notifications"].Defs[method]
		if def == nil {
			continue
		}
		for _, l := range fieldLists(text) {
			checkFieldList(t, schema, method, l, map[string]bool{schema.resolve(def.Properties["params"]): true})
		}
	}
	checkRequests(t, schema, doc)
	// The permission question's params beyond LSP's.
	perm := schema.Defs["PermissionRequestParams"]
	if len(doc.permissionParams) == 0 {
		t.Error("README: the permission question's params are not listed (\"the params carry `taskId`, …\")")
	}
	for _, name := range doc.permissionParams {
		if perm.Properties[name] == nil {
			t.Errorf("README: the permission question's params carry %q, which PermissionRequestParams lacks", name)
		}
	}
}

// checkCellShape checks the shape a table cell shows for a field's value
// against the definition the field's schema (prop) is: the same fields,
// said optional exactly when the schema's are.
func checkCellShape(t testing.TB, schema *schemaDoc, what string, prop *schemaDef, shape []eventField) {
	t.Helper()
	name := schema.resolve(prop)
	if shape == nil || name == "" {
		return
	}
	def := schema.Defs[name]
	var names []string
	for _, f := range shape {
		names = append(names, f.name)
		if def.Properties[f.name] != nil && f.optional != !contains(def.Required, f.name) {
			t.Errorf("README: the %s shows %s.%s as %s; the schema says it is %s", what, name, f.name, optionality(f.optional), optionality(!contains(def.Required, f.name)))
		}
	}
	var notInSchema, notInREADME []string
	for _, n := range names {
		if def.Properties[n] == nil {
			notInSchema = append(notInSchema, n)
		}
	}
	for n := range def.Properties {
		if !contains(names, n) {
			notInREADME = append(notInREADME, n)
		}
	}
	sort.Strings(notInSchema)
	sort.Strings(notInREADME)
	if len(notInSchema) > 0 || len(notInREADME) > 0 {
		t.Errorf("README: the %s shows the fields of %s %v, which the schema lacks, and not %v, which it has", what, name, notInSchema, notInREADME)
	}
}

// checkEvents checks the event table: the kinds, each kind's fields and
// the shapes its cells show.
func checkEvents(t testing.TB, schema *schemaDoc, doc readmeDoc) {
	t.Helper()
	events := map[string]*schemaDef{} // kind → definition
	for _, ref := range schema.Defs["BridgeEvent"].OneOf {
		def := schema.Defs[strings.TrimPrefix(ref.Ref, "#/$defs/")]
		events[def.Properties["kind"].Const] = def
	}
	same(t, "event kinds (the table under ### Events)", keys(doc.events), keys(events))
	for kind, fields := range doc.events {
		def, ok := events[kind]
		if !ok {
			continue
		}
		var names, schemaNames []string
		for _, f := range fields {
			names = append(names, f.name)
			if f.optional != !contains(def.Required, f.name) {
				t.Errorf("the %s event's field %s: the README says it is %s, the schema %s", kind, f.name, optionality(f.optional), optionality(!contains(def.Required, f.name)))
			}
			checkCellShape(t, schema, kind+" event's "+f.name, def.Properties[f.name], f.shape)
		}
		for name := range def.Properties {
			if name != "taskId" && name != "seq" && name != "kind" {
				schemaNames = append(schemaNames, name)
			}
		}
		same(t, "fields of the "+kind+" event", names, schemaNames)
	}
}

// checkRequests checks the shapes the bullets of claude/ask and
// claude/plan show: their params and the editor's reply.
func checkRequests(t testing.TB, schema *schemaDoc, doc readmeDoc) {
	t.Helper()
	for method, def := range schema.Defs["requests"].Defs {
		if !strings.HasPrefix(method, "claude/") {
			continue
		}
		text, ok := doc.requestText[method]
		if !ok {
			t.Errorf("README: the request %s is not described (a bullet with **`%s`**)", method, method)
			continue
		}
		candidates := map[string]bool{}
		schema.reach(def.Properties["params"], candidates)
		schema.reach(def.Properties["result"], candidates)
		lists := fieldLists(text)
		if len(lists) < 2 {
			t.Errorf("README: %s shows %d field lists; want its params and its reply", method, len(lists))
		}
		for _, l := range lists {
			checkFieldList(t, schema, method, l, candidates)
		}
	}
}

func optionality(optional bool) string {
	if optional {
		return "optional"
	}
	return "always present"
}

type eventField struct {
	name     string
	optional bool // `name`?
	// shape is the object (or array of objects) the cell shows for the
	// field's value, `[{content, status (…), activeForm?, id?}]`: its
	// fields; nil when it shows none.
	shape []eventField
}

// cellShape reads the first object shape in a table cell's text,
// `{content, status (pending, …), activeForm?, id?}`: its field names
// (white space, quotes and parenthesised asides dropped; `?` optional).
// An example with values (`{"value": …}`) is not a shape: nil.
func cellShape(text string) []eventField {
	start := strings.Index(text, "{")
	if start < 0 {
		return nil
	}
	depth, end := 0, -1
	for i := start; i < len(text) && end < 0; i++ {
		switch text[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return nil
	}
	var out []eventField
	for _, item := range splitTopLevel(text[start+1 : end]) {
		item = strings.TrimSpace(regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(item, ""))
		if strings.Contains(item, ":") {
			return nil // an example's value
		}
		name := strings.Trim(strings.TrimSuffix(item, "?"), `" `)
		if !regexp.MustCompile(`^[A-Za-z]+$`).MatchString(name) {
			return nil
		}
		out = append(out, eventField{name: name, optional: strings.HasSuffix(item, "?")})
	}
	return out
}

type readmeDoc struct {
	protocol         string
	commands         map[string]string // name → its paragraph
	notifications    []string
	notificationText map[string]string // name → its bullet
	requestText      map[string]string // claude/ask, claude/plan → its bullet
	events           map[string][]eventField
	permissionParams []string
	settings         []string
	authSettings     []string
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	notifName  = regexp.MustCompile("`(claude/[A-Za-z]+)`")
	boldCmd    = regexp.MustCompile("(?m)^\\*\\*`(claude\\.[A-Za-z]+)`\\*\\*")
	noteBullet = regexp.MustCompile("(?m)^- `(claude/[A-Za-z]+)`")
	boldMethod = regexp.MustCompile("\\*\\*`(claude/[A-Za-z]+)`\\*\\*")
	jsoncBlock = regexp.MustCompile("(?s)```jsonc\n(.*?)```")
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	// doubleCodeSpan is a CommonMark code span opened with two backticks.
	doubleCodeSpan = regexp.MustCompile("(?s)``.+?``")
)

// parseREADME reads the protocol section (## The protocol) and the
// configuration tables of the README.
func parseREADME(t *testing.T, readme string) readmeDoc {
	d := readmeDoc{events: map[string][]eventField{}}
	d.protocol = section(readme, "## The protocol")
	if d.protocol == "" {
		t.Fatal("README has no ## The protocol section")
	}
	d.commands = pieces(section(d.protocol, "### Commands"), boldCmd)
	for _, m := range notifName.FindAllStringSubmatch(d.protocol, -1) {
		d.notifications = append(d.notifications, m[1])
	}
	d.notificationText = pieces(section(d.protocol, "### Other notifications from the bridge"), noteBullet)
	d.requestText = pieces(d.protocol, boldMethod)
	for m, text := range d.requestText {
		// Its bullet: up to the next bullet or heading.
		for _, end := range []string{"\n- ", "\n#"} {
			if i := strings.Index(text, end); i >= 0 {
				text = text[:i]
			}
		}
		d.requestText[m] = text
	}
	for _, row := range tableRows(section(d.protocol, "### Events")) {
		kind := firstBackticked(row[0])
		for _, item := range splitTopLevel(row[1]) {
			if f := firstBackticked(item); f != "" {
				rest := strings.TrimSpace(item)[len(f)+2:]
				d.events[kind] = append(d.events[kind], eventField{f, strings.HasPrefix(rest, "?"), cellShape(rest)})
			}
		}
	}
	perm := section(d.protocol, "### Permission questions")
	if i := strings.Index(perm, "the params carry"); i >= 0 {
		sentence := perm[i:]
		if j := strings.Index(sentence, "."); j >= 0 {
			sentence = sentence[:j]
		}
		sentence = regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(sentence, "") // asides name other things
		for _, m := range backticked.FindAllStringSubmatch(sentence, -1) {
			d.permissionParams = append(d.permissionParams, m[1])
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

// pieces splits text at the matches of head (whose first group names the
// piece): each name → its text, up to the next match.
func pieces(text string, head *regexp.Regexp) map[string]string {
	out := map[string]string{}
	heads := head.FindAllStringSubmatchIndex(text, -1)
	for i, m := range heads {
		end := len(text)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		out[text[m[2]:m[3]]] = text[m[0]:end]
	}
	return out
}

// fieldLists are the field lists a piece of the README shows: its jsonc
// blocks, and its code spans that are a JSON object or an array of them
// (`{"taskId", "uri"}`, `[{"taskId", …}]`, `{"processes": true}`).
func fieldLists(text string) []fieldList {
	var out []fieldList
	for _, m := range jsoncBlock.FindAllStringSubmatch(text, -1) {
		out = append(out, fieldList{text: m[1], block: true})
	}
	text = jsoncBlock.ReplaceAllString(text, "")
	// A span opened with two backticks holds single ones (a message that
	// quotes a command): it shows no fields, and left in it would pair
	// the single backticks around it wrongly.
	text = doubleCodeSpan.ReplaceAllString(text, "")
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		span := strings.TrimSpace(m[1])
		if (strings.HasPrefix(span, "{") || strings.HasPrefix(span, "[{")) && strings.Contains(span, `"`) {
			out = append(out, fieldList{text: span})
		}
	}
	return out
}

// fieldList is a jsonc block (one field a line, its comment saying
// "optional", or none) or an inline list of names (`"name"?` optional,
// `"a" | "b"` one of the two).
type fieldList struct {
	text  string
	block bool
}

// node is an object a field list shows: its fields in order.
type node struct {
	fields []*shownField
}

type shownField struct {
	name string
	// how the README says whether it is optional: "optional", "present"
	// (required), "oneOf" (`"a" | "b"`), or "" (not said: an example's
	// value in prose)
	said  string
	child *node // the object (or array of objects) its value shows
}

// parse reads a field list into the objects it shows: the top one, and
// for each field the one its value holds.
func (l fieldList) parse() *node {
	type frame struct {
		n       *node
		inValue bool // after a key's colon, until the next comma
	}
	var stack []*frame
	var top *node
	var owner *shownField    // the key whose value the next object is
	var arrays []*shownField // the keys whose value is the array of objects open (nil: the top's)
	var last *shownField     // the field just read (for `"a" | "b"`)
	for _, line := range strings.Split(l.text, "\n") {
		code, comment := splitComment(line)
		firstOnLine := true
		for i := 0; i < len(code); i++ {
			var cur *frame
			if len(stack) > 0 {
				cur = stack[len(stack)-1]
			}
			switch c := code[i]; c {
			case '[':
				if next := strings.TrimSpace(code[i+1:]); next == "" || next[0] == '{' {
					arrays = append(arrays, owner) // the objects inside it are the value
					continue
				}
				// An array of scalars, or prose ("[...the array...]").
				for depth := 0; i < len(code); i++ {
					if code[i] == '[' {
						depth++
					} else if code[i] == ']' {
						if depth--; depth == 0 {
							break
						}
					}
				}
				owner = nil
			case ']':
				if len(arrays) > 0 {
					arrays = arrays[:len(arrays)-1]
				}
			case '{':
				n := &node{}
				switch {
				case owner != nil:
					owner.child = n
				case len(arrays) > 0 && arrays[len(arrays)-1] != nil && arrays[len(arrays)-1].child != nil:
					// Another object of the same array: its fields are
					// the same type's.
					n = arrays[len(arrays)-1].child
				case top == nil:
					top = n
				}
				owner = nil
				stack = append(stack, &frame{n: n})
			case '}':
				if cur != nil {
					stack = stack[:len(stack)-1]
				}
			case ',':
				if cur != nil {
					cur.inValue = false
				}
			case '"':
				j := i + 1
				for j < len(code) && code[j] != '"' {
					if code[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(code) {
					i = len(code)
					continue
				}
				name := code[i+1 : j]
				before := strings.TrimSpace(code[:i])
				i = j
				rest := strings.TrimSpace(code[j+1:])
				if cur == nil || cur.inValue {
					continue // a value
				}
				isKey := strings.HasPrefix(rest, ":")
				f := &shownField{name: name}
				switch {
				case isKey && l.block:
					f.said = "present"
					switch c := strings.TrimSpace(comment); {
					case !firstOnLine:
					case strings.HasPrefix(c, "optional"):
						f.said = "optional"
					case strings.HasPrefix(c, "one of"):
						f.said = "oneOf"
					case strings.HasPrefix(c, "with "):
						f.said = "dependent"
					}
				case isKey:
					f.said = "" // an example's value in prose says nothing of it
				case strings.HasPrefix(rest, "?"):
					f.said = "optional"
				case strings.HasPrefix(rest, "|") || strings.HasSuffix(before, "|") && last != nil && last.said == "oneOf":
					f.said = "oneOf"
				default:
					f.said = "present"
				}
				firstOnLine = false
				cur.n.fields = append(cur.n.fields, f)
				last = f
				if isKey {
					cur.inValue = true
					owner = f
					if v := strings.TrimSpace(rest[1:]); v != "" && v[0] != '{' && v[0] != '[' {
						owner = nil
					}
				}
			}
		}
	}
	return top
}

// splitComment splits a jsonc line at its comment (a // outside strings).
func splitComment(line string) (code, comment string) {
	in := false
	for i := 0; i < len(line); i++ {
		switch {
		case in && line[i] == '\\':
			i++
		case line[i] == '"':
			in = !in
		case !in && strings.HasPrefix(line[i:], "//"):
			return line[:i], line[i+2:]
		}
	}
	return line, ""
}

// checkFieldList checks a field list shown for what (a command, a
// notification) against the definitions it may show (candidates: the top
// object is the one whose fields include all it shows, fewest others
// first), and the objects nested in it against their fields' types.
func checkFieldList(t testing.TB, schema *schemaDoc, what string, l fieldList, candidates map[string]bool) {
	t.Helper()
	top := l.parse()
	if top == nil || len(top.fields) == 0 {
		return
	}
	best, bestExtra := "", -1
	for name := range candidates {
		def := schema.Defs[name]
		if def == nil || def.Properties == nil {
			continue
		}
		all := true
		for _, f := range top.fields {
			all = all && def.Properties[f.name] != nil
		}
		if extra := len(def.Properties) - len(top.fields); all && (best == "" || extra < bestExtra || extra == bestExtra && name < best) {
			best, bestExtra = name, extra
		}
	}
	if best == "" {
		var names []string
		for _, f := range top.fields {
			names = append(names, f.name)
		}
		t.Errorf("README: %s shows the fields %v (%.80s…), which no type of its schema has all of (%v)", what, names, oneLine(l.text), keys(candidates))
		return
	}
	checkNode(t, schema, what, best, top)
}

// checkNode checks an object a field list shows against its definition:
// each field it shows is one of the definition's, said optional exactly
// when the schema's is (a field one of whose alternatives the schema
// requires, anyOf or oneOf, is shown as present or as one of two; one
// another needs, dependentRequired, as "with" it); a list of names (no
// field shown with a value: a shape, not an example) shows every field of
// the definition; and the objects nested in it are checked against their
// fields' types.
func checkNode(t testing.TB, schema *schemaDoc, what, defName string, n *node) {
	t.Helper()
	def := schema.Defs[defName]
	oneOf := map[string]bool{}
	for _, alt := range append(append([]*schemaDef{}, def.AnyOf...), def.OneOf...) {
		for _, r := range alt.Required {
			oneOf[r] = true
		}
	}
	dependent := map[string]bool{}
	for _, needs := range def.DependentRequired {
		for _, n := range needs {
			dependent[n] = true
		}
	}
	list := true
	shown := map[string]bool{}
	for _, f := range n.fields {
		shown[f.name] = true
		list = list && f.said != ""
		prop := def.Properties[f.name]
		if prop == nil {
			t.Errorf("README: %s shows the field %q of %s, which the schema's %s lacks", what, f.name, defName, defName)
			continue
		}
		optional := !contains(def.Required, f.name)
		switch f.said {
		case "optional", "present":
			if f.said == "present" && oneOf[f.name] {
				break // required in one of the shapes the schema allows
			}
			if (f.said == "optional") != optional {
				t.Errorf("README: %s shows %s.%s as %s; the schema says it is %s", what, defName, f.name, optionality(f.said == "optional"), optionality(optional))
			}
		case "oneOf":
			if !oneOf[f.name] {
				t.Errorf("README: %s shows %s.%s as one of two; the schema does not require one of them", what, defName, f.name)
			}
		case "dependent":
			if !dependent[f.name] {
				t.Errorf("README: %s shows %s.%s as required with another field; the schema does not say so", what, defName, f.name)
			}
		}
		if f.child != nil && len(f.child.fields) > 0 {
			if child := schema.resolve(prop); child != "" {
				checkNode(t, schema, what, child, f.child)
			}
		}
	}
	if list {
		var missing []string
		for name := range def.Properties {
			if !shown[name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("README: %s shows the fields of %s without %v", what, defName, missing)
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestREADMECheckFindsDrift: the check fails on what a renamed field
// leaves in the README (issue 12: workspaceFolder renamed to folder,
// cancelled to ok, uri to fileUri, passed it), and on an optional field
// not said to be optional (claude.tasks' sessionId).
func TestREADMECheckFindsDrift(t *testing.T) {
	schema := loadSchema(t)
	doc := parseREADME(t, readREADME(t))
	rename := func(def, from, to string) *schemaDoc {
		var s schemaDoc
		b, _ := json.Marshal(schema)
		_ = json.Unmarshal(b, &s)
		d := s.Defs[def]
		d.Properties[to] = d.Properties[from]
		delete(d.Properties, from)
		for i, r := range d.Required {
			if r == from {
				d.Required[i] = to
			}
		}
		return &s
	}
	check := func(s *schemaDoc, text, what string, candidates ...string) string {
		ft := &fakeT{}
		set := map[string]bool{}
		for _, c := range candidates {
			set[c] = true
		}
		for _, l := range fieldLists(text) {
			checkFieldList(ft, s, what, l, set)
		}
		return strings.Join(ft.errors, "\n")
	}
	for _, c := range []struct {
		def, from, to, what string
		candidates          []string
		text                string
	}{
		{"RunArgs", "workspaceFolder", "folder", "claude.run", []string{"RunArgs", "RunResult", "ContextRef", "Range", "Position"}, doc.commands["claude.run"]},
		{"CancelResult", "cancelled", "ok", "claude.cancel", []string{"CancelArgs", "CancelResult"}, doc.commands["claude.cancel"]},
		{"EditConflictParams", "uri", "fileUri", "claude/editConflict", []string{"EditConflictParams"}, doc.notificationText["claude/editConflict"]},
		{"Position", "line", "row", "claude.run", []string{"RunArgs", "RunResult", "ContextRef", "Range", "Position"}, doc.commands["claude.run"]},
	} {
		if got := check(schema, c.text, c.what, c.candidates...); got != "" {
			t.Errorf("%s before the rename: %s", c.what, got)
		}
		if got := check(rename(c.def, c.from, c.to), c.text, c.what, c.candidates...); !strings.Contains(got, c.from) {
			t.Errorf("%s.%s renamed to %s: the check says %q", c.def, c.from, c.to, got)
		}
	}
	// The shapes inside the event table's cells (issue 12's verifier:
	// Todo.activeForm renamed, the README's todos row still showed it),
	// and those of claude/ask and claude/plan (header, multiSelect,
	// decision renamed passed the check).
	for _, c := range []struct {
		def, from, to string
		check         func(testing.TB, *schemaDoc, readmeDoc)
	}{
		{"Todo", "activeForm", "activity", checkEvents},
		{"Todo", "status", "state", checkEvents},
		{"Question", "header", "title", checkRequests},
		{"Question", "multiSelect", "multiple", checkRequests},
		{"QuestionOption", "label", "text", checkRequests},
		{"PlanResult", "decision", "choice", checkRequests},
		{"PlanParams", "uri", "fileUri", checkRequests},
	} {
		ft := &fakeT{}
		c.check(ft, schema, doc)
		if len(ft.errors) > 0 {
			t.Errorf("%s before the rename: %q", c.def, ft.errors)
		}
		ft = &fakeT{}
		c.check(ft, rename(c.def, c.from, c.to), doc)
		if got := strings.Join(ft.errors, "\n"); !strings.Contains(got, c.from) {
			t.Errorf("%s.%s renamed to %s: the check says %q", c.def, c.from, c.to, got)
		}
	}
	// A field the README leaves out of a list of a type's fields (issue
	// 12's verifier: claude.send's images).
	send := "**`claude.send`**, `arguments[0]` = `{\"taskId\", \"prompt\", \"context\"?}` → `{\"sent\": true}`"
	if got := check(schema, send, "claude.send", "SendArgs", "SendResult"); !strings.Contains(got, "SendArgs without [images]") {
		t.Errorf("a field left out: %q", got)
	}
	// An optional field of a claude/ask shape said to be always there
	// (the options' description).
	askDoc := doc
	askDoc.requestText = map[string]string{"claude/ask": strings.Replace(doc.requestText["claude/ask"], `"description"?`, `"description"`, 1),
		"claude/plan": doc.requestText["claude/plan"]}
	ft := &fakeT{}
	checkRequests(ft, schema, askDoc)
	if got := strings.Join(ft.errors, "\n"); !strings.Contains(got, "QuestionOption.description as always present") {
		t.Errorf("an optional field of claude/ask said to be present: %q", got)
	}

	tasks := `**` + "`claude.tasks`" + `** → ` + "`" + `[{"taskId", "status", "workspaceFolder", "prompt", "sessionId", "startedAt", "endedAt"?, "costUsd"?}]` + "`"
	if got := check(schema, tasks, "claude.tasks", "TaskInfo"); !strings.Contains(got, "TaskInfo.sessionId as always present; the schema says it is optional") {
		t.Errorf("an optional field not said to be: %q", got)
	}
	block := "```jsonc\n{\n  \"prompt\": \"p\",   // optional\n  \"model\": \"m\"     // optional\n}\n```"
	if got := check(schema, block, "claude.run", "RunArgs"); !strings.Contains(got, "RunArgs.prompt as optional") {
		t.Errorf("a required field said optional: %q", got)
	}
}

// fakeT collects what a check reports.
type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
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
func same(t testing.TB, what string, readme, schema []string) {
	t.Helper()
	var notInSchema, notInREADME []string
	for _, r := range readme {
		if !contains(schema, r) && !contains(notInSchema, r) {
			notInSchema = append(notInSchema, r)
		}
	}
	for _, s := range schema {
		if !contains(readme, s) {
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
