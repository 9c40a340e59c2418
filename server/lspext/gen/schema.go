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

// schemaID is the schema's $id: where it is committed.
const schemaID = "https://github.com/claude-bridge/claude-bridge/editors/protocol.schema.json"

// eventUnion is the name of the claude/event params' definition: the union
// of the event types (the Go interface lspext.Event). Not "Event", which
// TypeScript's DOM library already declares.
const eventUnion = "BridgeEvent"

// enums are lspext's string types with a fixed set of values, as
// definitions of their own ({"type": "string", "enum": [...]}).
var enums = []struct {
	t      reflect.Type
	values any // a slice of t
}{
	{reflect.TypeFor[lspext.EventKind](), lspext.EventKinds},
	{reflect.TypeFor[lspext.TaskStatus](), lspext.TaskStatuses},
	{reflect.TypeFor[lspext.Decision](), lspext.Decisions},
	{reflect.TypeFor[lspext.PlanDecision](), lspext.PlanDecisions},
	{reflect.TypeFor[lspext.TodoStatus](), lspext.TodoStatuses},
	{reflect.TypeFor[lspext.PermissionMode](), lspext.PermissionModes},
	{reflect.TypeFor[lspext.AuthState](), lspext.AuthStates},
	{reflect.TypeFor[lspext.AuthMode](), lspext.AuthModes},
	{reflect.TypeFor[lspext.KeySource](), lspext.KeySources},
	{reflect.TypeFor[lspext.LogLevel](), lspext.LogLevels},
	{reflect.TypeFor[lspext.ReviewMode](), lspext.ReviewModes},
	{reflect.TypeFor[lspext.ReviewDecision](), lspext.ReviewDecisions},
	{reflect.TypeFor[lspext.ChangeStatus](), lspext.ChangeStatuses},
}

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
	for _, e := range enums {
		name := e.t.Name()
		enumNames[e.t] = name
		vals := reflect.ValueOf(e.values)
		s := &jsonschema.Schema{Type: "string", Description: d.items[name]}
		for i := 0; i < vals.Len(); i++ {
			s.Enum = append(s.Enum, vals.Index(i).String())
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
			if t == reflect.TypeFor[json.RawMessage]() {
				return &jsonschema.Schema{Type: "object"}
			}
			if t == reflect.TypeFor[lspext.Event]() {
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
			params: reflectType(r.Params), result: reflectType(r.Result)})
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

// schemaJSON is the schema document: the definitions, and under
// x-commands, x-notifications, x-requests, x-configuration and
// x-clientCapabilities what each command takes and returns, what each
// notification carries, what each request to the editor carries and
// expects back, what the configuration is, and what an editor declares as
// capabilities.experimental.claudeBridge. (JSON Schema ignores keywords it does not know; the x- prefix marks
// them as this protocol's.)
func (p *protocol) schemaJSON() ([]byte, error) {
	type commandDoc struct {
		Description       string             `json:"description,omitempty"`
		Arguments         *jsonschema.Schema `json:"arguments,omitempty"`
		ArgumentsOptional bool               `json:"argumentsOptional,omitempty"`
		Result            *jsonschema.Schema `json:"result"`
	}
	type notificationDoc struct {
		Description string             `json:"description,omitempty"`
		Params      *jsonschema.Schema `json:"params"`
	}
	commands := map[string]commandDoc{}
	for _, c := range p.commands {
		commands[c.name] = commandDoc{Description: c.doc, Arguments: c.args, ArgumentsOptional: c.argsOptional, Result: c.result}
	}
	notes := map[string]notificationDoc{}
	for _, n := range p.notes {
		notes[n.method] = notificationDoc{Description: n.doc, Params: n.params}
	}
	type requestDoc struct {
		Description string             `json:"description,omitempty"`
		Params      *jsonschema.Schema `json:"params"`
		Result      *jsonschema.Schema `json:"result"`
	}
	requests := map[string]requestDoc{}
	for _, r := range p.requests {
		requests[r.method] = requestDoc{Description: r.doc, Params: r.params, Result: r.result}
	}
	doc := struct {
		Schema        string                     `json:"$schema"`
		ID            string                     `json:"$id"`
		Title         string                     `json:"title"`
		Description   string                     `json:"description"`
		Commands      map[string]commandDoc      `json:"x-commands"`
		Notifications map[string]notificationDoc `json:"x-notifications"`
		Requests      map[string]requestDoc      `json:"x-requests"`
		Configuration *jsonschema.Schema         `json:"x-configuration"`
		ClientCaps    *jsonschema.Schema         `json:"x-clientCapabilities"`
		Defs          jsonschema.Definitions     `json:"$defs"`
	}{
		Schema:        jsonschema.Version,
		ID:            schemaID,
		Title:         "claude-bridge editor protocol",
		Description:   p.docs.pkg,
		Commands:      commands,
		Notifications: notes,
		Requests:      requests,
		Configuration: ref("Configuration"),
		ClientCaps:    ref("ClientCapabilities"),
		Defs:          p.defs,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
