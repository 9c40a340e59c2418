package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// schemaDescription is the schema document's description.
const schemaDescription = "The protocol between claude-bridge and an editor beyond LSP: the " +
	"workspace/executeCommand commands (claude.*) with their arguments and replies ($defs/commands), " +
	"the notifications the bridge sends (claude/event, one definition per event kind told apart by " +
	"kind; claude/editConflict; claude/authChanged: $defs/notifications), the requests it sends the " +
	"editor (permission questions, claude's questions and plans: $defs/requests), the configuration " +
	"($defs/Configuration: initializationOptions, or settings.claudeBridge in " +
	"workspace/didChangeConfiguration) and what an editor declares under " +
	"capabilities.experimental.claudeBridge ($defs/ClientCapabilities). Field names are camelCase; an " +
	"optional field is absent, never null, in both directions; URIs are file:// URIs as the editor " +
	"spells them; times are RFC 3339; durations say their unit in their name (durationMs, delayMs). " +
	"Generated from the Go types of server/lspext (make generate); see README.md, The protocol."

// schemaID is the schema's $id: where it is committed.
const schemaID = "https://github.com/claude-bridge/claude-bridge/editors/protocol.schema.json"

// eventUnion is the name of the claude/event params' definition: the union
// of the event types (the Go interface lspext.Event). Not "Event", which
// TypeScript's DOM library already declares.
const eventUnion = "BridgeEvent"

// protocol is the generated description of the protocol: the schema, and
// what the TypeScript and Lua emitters walk.
type protocol struct {
	docs *docs
	defs jsonschema.Definitions
	// order is the order definitions are emitted in TypeScript and Lua:
	// enums, then the types as the commands, notifications and
	// configuration reach them.
	order []string
	// eventTypes are the event definitions, in lspext.EventKinds order.
	eventTypes []string
	commands   []command
	notes      []notification
	requests   []request
}

// request is a request the bridge sends the editor.
type request struct {
	method, doc    string
	params, result *jsonschema.Schema
	nullable       bool // the reply may be null
}

type command struct {
	name, doc    string
	args, result *jsonschema.Schema // args nil: none
	// argsOptional: the arguments have no required field, so they may be
	// left out.
	argsOptional bool
}

type notification struct {
	method, doc string
	params      *jsonschema.Schema
}

func ref(name string) *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/" + name} }

func refName(s *jsonschema.Schema) string { return strings.TrimPrefix(s.Ref, "#/$defs/") }

// build reflects lspext's types into JSON Schema definitions.
func build(d *docs) (*protocol, error) {
	p := &protocol{docs: d, defs: jsonschema.Definitions{}}
	enumNames := map[reflect.Type]string{}
	for _, e := range lspext.Enums() {
		name := e.Type.Name()
		enumNames[e.Type] = name
		s := &jsonschema.Schema{Type: "string", Description: d.items[name]}
		for _, v := range e.Values {
			s.Enum = append(s.Enum, v)
		}
		p.defs[name] = s
		p.order = append(p.order, name)
	}
	r := &jsonschema.Reflector{
		Anonymous: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if name, ok := enumNames[t]; ok {
				return ref(name)
			}
			switch t {
			case reflect.TypeFor[lspext.RawObject]():
				return &jsonschema.Schema{Type: "object"}
			case reflect.TypeFor[json.RawMessage]():
				return jsonschema.TrueSchema
			case reflect.TypeFor[lspext.Event]():
				return ref(eventUnion) // the union of the event types, built below
			}
			return nil
		},
		LookupComment: func(t reflect.Type, field string) string {
			if t.PkgPath() != reflect.TypeFor[lspext.Event]().PkgPath() {
				return ""
			}
			if field == "" {
				return d.items[t.Name()]
			}
			f, _ := t.FieldByName(field)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			return d.field(t.Name(), field, name)
		},
	}
	reflectType := func(t reflect.Type) *jsonschema.Schema {
		s := r.ReflectFromType(t)
		for name, def := range s.Definitions {
			p.defs[name] = def
		}
		s.Definitions, s.Version = nil, ""
		structTypes(t, func(st reflect.Type) { rules(st, p.defs[st.Name()]) })
		return s
	}

	for _, c := range lspext.CommandDefs {
		cmd := command{name: c.Command, doc: d.constDoc(c.Command)}
		if c.Args != nil {
			cmd.args = reflectType(c.Args)
			cmd.argsOptional = len(p.defs[refName(cmd.args)].Required) == 0
		}
		if len(c.Results) == 1 {
			cmd.result = reflectType(c.Results[0])
		} else {
			cmd.result = &jsonschema.Schema{}
			for _, r := range c.Results {
				cmd.result.OneOf = append(cmd.result.OneOf, reflectType(r))
			}
		}
		p.commands = append(p.commands, cmd)
	}

	// The events: one definition per kind with `kind` a constant, and
	// their union.
	union := &jsonschema.Schema{Description: eventUnion + strings.TrimPrefix(d.items["Event"], "Event")}
	for _, k := range lspext.EventKinds {
		ev := lspext.NewEvent(k)
		t := reflect.TypeOf(ev).Elem()
		reflectType(t)
		def := p.defs[t.Name()]
		kind, ok := def.Properties.Get("kind")
		if !ok {
			return nil, fmt.Errorf("%s has no kind property", t.Name())
		}
		def.Properties.Set("kind", &jsonschema.Schema{Const: string(k), Description: kind.Description})
		union.OneOf = append(union.OneOf, ref(t.Name()))
		p.eventTypes = append(p.eventTypes, t.Name())
	}
	p.defs[eventUnion] = union

	for _, n := range lspext.NotificationDefs {
		var params *jsonschema.Schema
		if n.Params == reflect.TypeFor[lspext.Event]() {
			params = ref(eventUnion)
		} else {
			params = reflectType(n.Params)
		}
		p.notes = append(p.notes, notification{method: n.Method, doc: d.constDoc(n.Method), params: params})
	}
	for _, r := range lspext.RequestDefs {
		p.requests = append(p.requests, request{method: r.Method, doc: d.constDoc(r.Method),
			params: reflectType(r.Params), result: reflectType(r.Result), nullable: r.ResultNullable})
	}
	config := reflectType(reflect.TypeFor[lspext.Configuration]())
	clientCaps := reflectType(reflect.TypeFor[lspext.ClientCapabilities]())

	// The emit order: what the commands reach, the events, the
	// notifications, the configuration; each type before the ones it
	// alone uses.
	seen := map[string]bool{}
	for _, n := range p.order {
		seen[n] = true
	}
	var visit func(s *jsonschema.Schema)
	visitName := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		p.order = append(p.order, name)
		visit(p.defs[name])
	}
	visit = func(s *jsonschema.Schema) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			visitName(refName(s))
		}
		visit(s.Items)
		for _, o := range s.OneOf {
			visit(o)
		}
		if s.Properties != nil {
			for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
				visit(pair.Value)
			}
		}
		if s.AdditionalProperties != nil {
			visit(s.AdditionalProperties)
		}
	}
	for _, c := range p.commands {
		visit(c.args)
		visit(c.result)
	}
	visitName(eventUnion)
	for _, n := range p.notes {
		visit(n.params)
	}
	for _, r := range p.requests {
		visit(r.params)
		visit(r.result)
	}
	visit(config)
	visit(clientCaps)
	if len(p.order) != len(p.defs) {
		var missing []string
		for name := range p.defs {
			if !seen[name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("definitions reached by nothing: %v", missing)
	}
	return p, nil
}

// constDoc is the doc comment of the lspext constant whose value is v
// ("claude.run": CommandRun's) without the constant's name: "Runs a task…".
func (d *docs) constDoc(v string) string {
	for name, val := range constValues {
		if val == v {
			text := strings.TrimPrefix(d.items[name], name+" ")
			if text == "" {
				return ""
			}
			return strings.ToUpper(text[:1]) + text[1:]
		}
	}
	return ""
}

var constValues = map[string]string{
	"CommandRun": lspext.CommandRun, "CommandCancel": lspext.CommandCancel, "CommandFollowUp": lspext.CommandFollowUp,
	"CommandTasks": lspext.CommandTasks, "CommandAuthStatus": lspext.CommandAuthStatus,
	"CommandSend": lspext.CommandSend, "CommandInterrupt": lspext.CommandInterrupt,
	"CommandSetPermissionMode": lspext.CommandSetPermissionMode, "CommandSetModel": lspext.CommandSetModel,
	"CommandCommands": lspext.CommandCommands, "CommandSessions": lspext.CommandSessions, "CommandTranscript": lspext.CommandTranscript,
	"CommandAnswer": lspext.CommandAnswer, "CommandChanges": lspext.CommandChanges, "CommandRevert": lspext.CommandRevert,
	"CommandAccept": lspext.CommandAccept, "MethodChanges": lspext.MethodChanges, "MethodReviewEdit": lspext.MethodReviewEdit,
	"MethodEvent": lspext.MethodEvent, "MethodEditConflict": lspext.MethodEditConflict, "MethodAuthChanged": lspext.MethodAuthChanged,
	"MethodShowMessageRequest": lspext.MethodShowMessageRequest, "MethodAsk": lspext.MethodAsk,
	"MethodPlan": lspext.MethodPlan,
}

// schemaJSON is the schema document: the definitions of the types, and
// three definitions that say what each message carries, in JSON Schema's
// own terms (so that the document loads in a validator's strict mode,
// ajv's included): $defs/commands/$defs/<command> describes a command as
// an object {arguments, result}, its workspace/executeCommand arguments
// array and its reply; $defs/notifications/$defs/<method> a notification
// as {params}; $defs/requests/$defs/<method> a request to the editor as
// {params, result}. The configuration is $defs/Configuration.
func (p *protocol) schemaJSON() ([]byte, error) {
	commands := &jsonschema.Schema{
		Description: "The workspace/executeCommand commands, each as {arguments, result}: its arguments array and its reply.",
		Definitions: jsonschema.Definitions{},
	}
	for _, c := range p.commands {
		args := &jsonschema.Schema{Type: "array", Items: c.args, MaxItems: ptr(uint64(1)),
			Description: "workspace/executeCommand's arguments: one at most."}
		def := &jsonschema.Schema{Type: "object", Description: c.doc, Properties: jsonschema.NewProperties()}
		def.Properties.Set("arguments", args)
		def.Properties.Set("result", c.result)
		def.Required = []string{"result"}
		if c.argsOptional {
			args.Description = "workspace/executeCommand's arguments: none, or one."
		} else {
			args.MinItems = ptr(uint64(1))
			args.Description = "workspace/executeCommand's arguments: exactly one."
			def.Required = []string{"arguments", "result"}
		}
		commands.Definitions[c.name] = def
	}
	notes := &jsonschema.Schema{
		Description: "The notifications the bridge sends, each as {params}.",
		Definitions: jsonschema.Definitions{},
	}
	for _, n := range p.notes {
		def := &jsonschema.Schema{Type: "object", Description: n.doc, Properties: jsonschema.NewProperties(), Required: []string{"params"}}
		def.Properties.Set("params", n.params)
		notes.Definitions[n.method] = def
	}
	requests := &jsonschema.Schema{
		Description: "The requests the bridge sends the editor beyond LSP's own, each as {params, result}: its params and the editor's reply.",
		Definitions: jsonschema.Definitions{},
	}
	for _, r := range p.requests {
		def := &jsonschema.Schema{Type: "object", Description: r.doc, Properties: jsonschema.NewProperties(), Required: []string{"params", "result"}}
		def.Properties.Set("params", r.params)
		result := r.result
		if r.nullable {
			result = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{r.result, {Type: "null"}}}
		}
		def.Properties.Set("result", result)
		requests.Definitions[r.method] = def
	}
	defs := jsonschema.Definitions{}
	for name, def := range p.defs {
		defs[name] = def
	}
	for name, def := range map[string]*jsonschema.Schema{"commands": commands, "notifications": notes, "requests": requests} {
		if _, ok := defs[name]; ok {
			return nil, fmt.Errorf("a type is named %s, as a group of the schema is", name)
		}
		defs[name] = def
	}
	doc := struct {
		Schema      string                 `json:"$schema"`
		ID          string                 `json:"$id"`
		Title       string                 `json:"title"`
		Description string                 `json:"description"`
		Defs        jsonschema.Definitions `json:"$defs"`
	}{
		Schema:      jsonschema.Version,
		ID:          schemaID,
		Title:       "claude-bridge editor protocol",
		Description: schemaDescription,
		Defs:        defs,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func ptr[T any](v T) *T { return &v }

// structTypes calls fn for each struct type of lspext that t is or
// reaches through its fields (pointers, slices and maps followed).
func structTypes(t reflect.Type, fn func(reflect.Type)) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() != reflect.TypeFor[lspext.Event]().PkgPath() {
			return
		}
		seen[t] = true
		fn(t)
		lspext.ForEachField(t, func(f reflect.StructField, _ []int, _ string, _ bool) { walk(f.Type) })
	}
	walk(t)
}

// rules adds to the definition of struct type t what the Go type says and
// the reflector does not: the range of sized and unsigned integers (as
// lspext.Decode checks it), the fields of which one at least must be
// present (RequiresOneOf: anyOf), of which exactly one (OneOfFields:
// oneOf), the fields another needs (DependentRequired: dependentRequired),
// and that unknown fields are accepted (AcceptsUnknownFields: the
// configuration's).
func rules(t reflect.Type, def *jsonschema.Schema) {
	if def == nil {
		return
	}
	lspext.ForEachField(t, func(f reflect.StructField, _ []int, name string, _ bool) {
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		prop, ok := def.Properties.Get(name)
		if !ok {
			return
		}
		switch ft.Kind() {
		case reflect.Int8, reflect.Int16, reflect.Int32:
			lo, hi := int64(-1)<<(ft.Bits()-1), int64(1)<<(ft.Bits()-1)-1
			setRange(prop, fmt.Sprint(lo), fmt.Sprint(hi))
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			setRange(prop, "0", fmt.Sprint(uint64(1)<<ft.Bits()-1))
		case reflect.Uint, reflect.Uint64:
			setRange(prop, "0", "")
		}
	})
	v := reflect.New(t).Interface()
	// requiring is a schema that requires a field: the property again, so
	// that a validator's strict mode finds what "required" names.
	requiring := func(name string) *jsonschema.Schema {
		alt := &jsonschema.Schema{Properties: jsonschema.NewProperties(), Required: []string{name}}
		alt.Properties.Set(name, jsonschema.TrueSchema)
		return alt
	}
	if r, ok := v.(interface{ RequiresOneOf() []string }); ok {
		for _, name := range r.RequiresOneOf() {
			def.AnyOf = append(def.AnyOf, requiring(name))
		}
	}
	if r, ok := v.(interface{ OneOfFields() []string }); ok {
		for _, name := range r.OneOfFields() {
			def.OneOf = append(def.OneOf, requiring(name))
		}
	}
	if r, ok := v.(interface {
		DependentRequired() map[string][]string
	}); ok {
		def.DependentRequired = r.DependentRequired()
	}
	if a, ok := v.(interface{ AcceptsUnknownFields() bool }); ok && a.AcceptsUnknownFields() {
		def.AdditionalProperties = jsonschema.TrueSchema
	}
}

// setRange sets a property's minimum and maximum unless its tag did.
func setRange(prop *jsonschema.Schema, lo, hi string) {
	if prop.Minimum == "" {
		prop.Minimum = json.Number(lo)
	}
	if prop.Maximum == "" && hi != "" {
		prop.Maximum = json.Number(hi)
	}
}
