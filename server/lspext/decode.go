package lspext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/internal/quote"
)

// A DecodeError is what Decode refuses: where, as a path of fields and
// indexes from the value decoded ("context[0].range.start.line"; "" for
// the value itself), and what is wrong there, in JSON's terms ("is 7, not
// a string", `has an unknown field "rnge"`). Values it repeats are cut to
// a few dozen characters.
type DecodeError struct {
	Path    string
	Problem string
}

// Error is the error with the value at the top called "the value".
func (e *DecodeError) Error() string { return e.In("") }

// In says the error for a value named root (a command's "arguments[0]",
// the configuration's "settings.claudeBridge"):
// `arguments[0].context[0] has an unknown field "rnge"`.
func (e *DecodeError) In(root string) string {
	where := joinPath(root, e.Path)
	if where == "" {
		where = "the value"
	}
	return where + " " + e.Problem
}

// joinPath appends a path ("name", "[3]", "a.b[0]") to another.
func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || b[0] == '[':
		return a + b
	}
	return a + "." + b
}

// DecodeEvent decodes the params of a claude/event into the type of its
// kind, as strictly as Decode. The error names the kind and the field.
func DecodeEvent(data []byte) (Event, error) {
	var h struct {
		Kind json.RawMessage `json:"kind"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("claude/event: %w", Decode(data, &EventHeader{}))
	}
	var kind EventKind
	if err := Decode(h.Kind, &kind); err != nil {
		return nil, fmt.Errorf("claude/event: kind %s", err.(*DecodeError).Problem)
	}
	ev := NewEvent(kind)
	if err := Decode(data, ev); err != nil {
		return nil, fmt.Errorf("claude/event %q: %w", kind, err)
	}
	return ev, nil
}

// Decode decodes a protocol message into v (a pointer to one of this
// package's types, or any Go type) and fails with a *DecodeError when the
// message does not have v's shape: a field v's type does not know, a field
// of another JSON type, a value out of its range, a field that is always
// present (one without omitempty) left out, a null anywhere (an optional
// field is left out, never null), a value of an enumeration that is not
// one of its values, a number under a field's `jsonschema:"minimum=…"` or
// over its maximum, a string shorter than its minLength or not matching
// its pattern, a range that ends before it starts, claude.followUp's
// arguments without taskId or sessionId. A renamed or missing field
// becomes an error, never a zero value. The server decodes the commands'
// arguments and the editor's settings with it (a -32602 error quotes it);
// tests decode what the server sends. JSON Schema's rules, so the schema
// generated from the same types says the same.
func Decode(data []byte, v any) error {
	d := &decoder{}
	if err := d.top(data, v); err != nil {
		return err
	}
	return nil
}

// DecodeLSP is Decode for LSP's own messages (initialize's params,
// workspace/executeCommand's, didChangeConfiguration's), which may carry
// more than v's type knows and whose optional fields LSP allows to be
// null (rootUri: DocumentUri | null): fields v's type does not know are
// returned by path, not refused, and a null field is taken as absent.
// What the bridge's own types hold (a command's arguments, the
// configuration) is decoded with Decode or DecodeEach, where null is
// refused.
func DecodeLSP(data []byte, v any) (unknown []string, err error) {
	d := &decoder{lenient: true, nullIsAbsent: true}
	if err := d.top(data, v); err != nil {
		return d.unknown, err
	}
	return d.unknown, nil
}

// DecodeEach decodes a JSON object into the struct v points to one field
// at a time, as Decode would but for fields it does not know (inside
// fields too), which are listed rather than refused: a field that does not decode is left as
// it was and returned in refused (the others are set); fields v's type
// does not know are returned by path. err is for data that is not an
// object at all (then nothing is set). The configuration is decoded so: a
// setting of the wrong type refuses that setting, not the others.
func DecodeEach(data []byte, v any) (refused []*DecodeError, unknown []string, err error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("lspext.DecodeEach: %T is not a pointer to a struct", v)
	}
	raw, derr := valid(data)
	if derr != nil {
		return nil, nil, derr
	}
	if kindOf(raw) != '{' {
		return nil, nil, &DecodeError{Problem: "is " + describe(raw) + ", not an object"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, nil, &DecodeError{Problem: "is not JSON: " + jsonProblem(err)}
	}
	st := rv.Elem()
	known := map[string]bool{}
	for _, f := range fieldsOf(st.Type()) {
		known[f.name] = true
		fraw, ok := obj[f.name]
		if !ok {
			continue
		}
		d := &decoder{lenient: true}
		tmp := reflect.New(f.typ).Elem()
		if e := d.value(fraw, tmp, f.name, &f); e != nil {
			refused = append(refused, e)
		} else {
			st.FieldByIndex(f.index).Set(tmp)
		}
		unknown = append(unknown, d.unknown...)
	}
	for _, name := range sortedKeys(obj) {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	return refused, unknown, nil
}

// decoder walks a JSON value and a Go type together.
type decoder struct {
	lenient      bool     // unknown fields are listed, not refused
	nullIsAbsent bool     // a field that is null is taken as left out
	unknown      []string // the paths of unknown fields
}

func (d *decoder) top(data []byte, v any) *DecodeError {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &DecodeError{Problem: fmt.Sprintf("cannot be decoded into %T", v)}
	}
	raw, err := valid(data)
	if err != nil {
		return err
	}
	return d.value(raw, rv.Elem(), "", nil)
}

// valid is data trimmed, or why it is not one JSON value.
func valid(data []byte) ([]byte, *DecodeError) {
	raw := bytes.TrimSpace(data)
	if json.Valid(raw) {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var first json.RawMessage
	if err := dec.Decode(&first); err != nil {
		return nil, &DecodeError{Problem: "is not JSON: " + jsonProblem(err)}
	}
	return nil, &DecodeError{Problem: "is not one JSON value: there is more after it"}
}

// jsonProblem is encoding/json's syntax error without its package name.
func jsonProblem(err error) string {
	if errors.Is(err, io.EOF) {
		return "it is empty"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Types decoded specially: any JSON, any JSON object, and Go's own
// decoding for types of other packages that decode themselves.
var (
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	rawObjectType   = reflect.TypeFor[RawObject]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	pkgPath         = reflect.TypeFor[DecodeError]().PkgPath()
)

// kindOf is the JSON type of a valid JSON value by its first byte: '{',
// '[', '"', 't' (true or false), 'n' (null) or '0' (a number).
func kindOf(raw []byte) byte {
	switch c := raw[0]; c {
	case '{', '[', '"', 'n':
		return c
	case 't', 'f':
		return 't'
	}
	return '0'
}

// Describe says what a JSON value is, as a DecodeError does: "an
// object", "true", a string quoted and cut short.
func (*DecodeError) Describe(raw []byte) string { return describe(bytes.TrimSpace(raw)) }

// describe says what a JSON value is, repeating a scalar (cut short):
// "an object", "an array", "null", "true", `"abc"`, "-1".
func describe(raw []byte) string {
	switch kindOf(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return quote.String(s)
		}
	}
	return quote.Text(string(raw))
}

// expected names the JSON a Go type decodes from: "a string", "an
// integer from 0 to 4294967295", `one of "default", "plan"`.
func expected(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if vals := enumValues()[t]; vals != nil {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = strconv.Quote(v)
		}
		return "one of " + strings.Join(q, ", ")
	}
	switch t {
	case rawObjectType:
		return "an object"
	case rawMessageType:
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		lo, hi := intRange(t)
		return fmt.Sprintf("an integer from %d to %d", lo, hi)
	case reflect.Uint, reflect.Uint64:
		return "an integer of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Interface:
		return "a JSON value"
	}
	return "an object"
}

// intRange is the range of an integer kind.
func intRange(t reflect.Type) (lo int64, hi uint64) {
	bits := t.Bits()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return -1 << (bits - 1), 1<<(bits-1) - 1
	}
	if bits == 64 {
		return 0, math.MaxUint64
	}
	return 0, 1<<bits - 1
}

// typeError says that raw is not what t decodes from.
func typeError(raw []byte, t reflect.Type, path string, f *field) *DecodeError {
	if kindOf(raw) == 'n' && f != nil && f.optional {
		return &DecodeError{Path: path, Problem: "is null: leave the field out instead (an optional field is absent, never null)"}
	}
	return &DecodeError{Path: path, Problem: "is " + describe(raw) + ", not " + expected(t)}
}

// value decodes raw (valid JSON) into v, whose path is path; f is the
// struct field v is (nil for an element or the top).
func (d *decoder) value(raw []byte, v reflect.Value, path string, f *field) *DecodeError {
	t := v.Type()
	k := kindOf(raw)
	switch {
	case t == rawMessageType:
		if k == 'n' && f != nil {
			return typeError(raw, t, path, f)
		}
		v.SetBytes(append([]byte(nil), raw...))
		return nil
	case t == rawObjectType:
		if k != '{' {
			return typeError(raw, t, path, f)
		}
		v.SetBytes(append([]byte(nil), raw...))
		return nil
	case t.Kind() == reflect.Interface:
		if k == 'n' && f != nil {
			return typeError(raw, t, path, f)
		}
		x, err := anyValue(raw, path)
		if err != nil {
			return err
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	case k == 'n':
		return typeError(raw, t, path, f)
	case t.Kind() == reflect.Pointer:
		e := reflect.New(t.Elem())
		if err := d.value(raw, e.Elem(), path, f); err != nil {
			return err
		}
		v.Set(e)
		return nil
	case t.PkgPath() != pkgPath && reflect.PointerTo(t).Implements(unmarshalerType):
		// A type of another package (go.lsp.dev/protocol's) that
		// decodes itself.
		return d.std(raw, v, path)
	}
	switch t.Kind() {
	case reflect.String:
		if k != '"' {
			return typeError(raw, t, path, f)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return &DecodeError{Path: path, Problem: "is not a valid string: " + jsonProblem(err)}
		}
		if vals := enumValues()[t]; vals != nil && !contains(vals, s) {
			return &DecodeError{Path: path, Problem: "is " + quote.String(s) + ", not " + expected(t)}
		}
		if err := f.checkString(s); err != "" {
			return &DecodeError{Path: path, Problem: err}
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		if k != 't' {
			return typeError(raw, t, path, f)
		}
		v.SetBool(raw[0] == 't')
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if k != '0' {
			return typeError(raw, t, path, f)
		}
		n, ok := new(big.Float).SetString(string(raw))
		if !ok || !n.IsInt() {
			return typeError(raw, t, path, f)
		}
		lo, hi := intRange(t)
		if n.Cmp(new(big.Float).SetInt64(lo)) < 0 || n.Cmp(new(big.Float).SetUint64(hi)) > 0 {
			return typeError(raw, t, path, f)
		}
		if err := f.checkNumber(n); err != "" {
			return &DecodeError{Path: path, Problem: "is " + describe(raw) + ", " + err}
		}
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
			u, _ := n.Uint64()
			v.SetUint(u)
		} else {
			i, _ := n.Int64()
			v.SetInt(i)
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if k != '0' {
			return typeError(raw, t, path, f)
		}
		x, err := strconv.ParseFloat(string(raw), t.Bits())
		if err != nil {
			return &DecodeError{Path: path, Problem: "is " + describe(raw) + ", too large for a number"}
		}
		if err := f.checkNumber(new(big.Float).SetFloat64(x)); err != "" {
			return &DecodeError{Path: path, Problem: "is " + describe(raw) + ", " + err}
		}
		v.SetFloat(x)
		return nil
	case reflect.Slice:
		if k != '[' {
			return typeError(raw, t, path, f)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return &DecodeError{Path: path, Problem: "is not JSON: " + jsonProblem(err)}
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			if err := d.value(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i), nil); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if k != '{' || t.Key().Kind() != reflect.String {
			return typeError(raw, t, path, f)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return &DecodeError{Path: path, Problem: "is not JSON: " + jsonProblem(err)}
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for _, key := range sortedKeys(obj) {
			e := reflect.New(t.Elem()).Elem()
			if err := d.value(obj[key], e, joinPath(path, key), nil); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), e)
		}
		v.Set(m)
		return nil
	case reflect.Struct:
		if k != '{' {
			return typeError(raw, t, path, f)
		}
		return d.object(raw, v, path)
	}
	return &DecodeError{Path: path, Problem: "cannot be decoded (" + t.Kind().String() + ")"}
}

// std decodes with encoding/json (types that decode themselves; any).
func (d *decoder) std(raw []byte, v reflect.Value, path string) *DecodeError {
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &DecodeError{Path: joinPath(path, te.Field), Problem: "is " + articled(te.Value) + ", not " + expected(te.Type)}
		}
		return &DecodeError{Path: path, Problem: "is not valid: " + jsonProblem(err)}
	}
	return nil
}

// anyValue is raw as encoding/json decodes it into an any (numbers as
// float64), or where a number is too large for one.
func anyValue(raw []byte, path string) (any, *DecodeError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, &DecodeError{Path: path, Problem: "is not JSON: " + jsonProblem(err)}
	}
	var conv func(x any, path string) (any, *DecodeError)
	conv = func(x any, path string) (any, *DecodeError) {
		switch x := x.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, &DecodeError{Path: path, Problem: "is " + quote.Text(string(x)) + ", too large for a number"}
			}
			return f, nil
		case []any:
			for i, e := range x {
				c, err := conv(e, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				x[i] = c
			}
		case map[string]any:
			for _, k := range sortedKeys(x) {
				c, err := conv(x[k], joinPath(path, k))
				if err != nil {
					return nil, err
				}
				x[k] = c
			}
		}
		return x, nil
	}
	return conv(x, path)
}

// articled names a JSON type encoding/json reports ("number", "bool").
func articled(what string) string {
	switch what {
	case "bool":
		return "a boolean"
	case "array", "object":
		return "an " + what
	case "":
		return "a value of another type"
	}
	return "a " + what
}

// object decodes a JSON object into a struct: unknown fields first (by
// name), then required fields left out, then each field in the struct's
// order, then the rules of the type as a whole (objectRules, check).
func (d *decoder) object(raw []byte, v reflect.Value, path string) *DecodeError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return &DecodeError{Path: path, Problem: "is not JSON: " + jsonProblem(err)}
	}
	fields := fieldsOf(v.Type())
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
	}
	for _, name := range sortedKeys(obj) {
		if known[name] {
			continue
		}
		if !d.lenient {
			return &DecodeError{Path: path, Problem: "has an unknown field " + quote.String(name)}
		}
		d.unknown = append(d.unknown, joinPath(path, name))
	}
	for _, f := range fields {
		if raw, ok := obj[f.name]; (!ok || d.nullIsAbsent && kindOf(raw) == 'n') && !f.optional {
			return &DecodeError{Path: path, Problem: "lacks the required field " + strconv.Quote(f.name)}
		}
	}
	for i := range fields {
		f := &fields[i]
		fraw, ok := obj[f.name]
		if !ok || d.nullIsAbsent && kindOf(fraw) == 'n' {
			continue
		}
		if err := d.value(fraw, v.FieldByIndex(f.index), joinPath(path, f.name), f); err != nil {
			return err
		}
	}
	if err := objectRules(v.Addr().Interface(), obj); err != "" {
		return &DecodeError{Path: path, Problem: err}
	}
	if c, ok := v.Addr().Interface().(interface{ check() *DecodeError }); ok {
		if err := c.check(); err != nil {
			err.Path = joinPath(path, err.Path)
			return err
		}
	}
	return nil
}

// The rules a struct type may state about its fields together, by
// methods of its value that the schema generator reads too:
//
//	RequiresOneOf() []string: one at least of these fields is present
//	  (JSON Schema's anyOf of required);
//	OneOfFields() []string: exactly one of these is present (oneOf);
//	DependentRequired() map[string][]string: with a field present, these
//	  others are too (dependentRequired).
type (
	requiresOneOf     interface{ RequiresOneOf() []string }
	oneOfFields       interface{ OneOfFields() []string }
	dependentRequired interface {
		DependentRequired() map[string][]string
	}
)

// objectRules checks the rules of v's type against the fields present in
// obj ("" when it passes; else the problem).
func objectRules(v any, obj map[string]json.RawMessage) string {
	present := func(names []string) (in []string) {
		for _, n := range names {
			if _, ok := obj[n]; ok {
				in = append(in, n)
			}
		}
		return in
	}
	if r, ok := v.(requiresOneOf); ok && len(present(r.RequiresOneOf())) == 0 {
		return "needs one of the fields " + quotedList(r.RequiresOneOf(), " or ")
	}
	if r, ok := v.(oneOfFields); ok {
		switch in := present(r.OneOfFields()); {
		case len(in) == 0:
			return "needs one of the fields " + quotedList(r.OneOfFields(), " or ")
		case len(in) > 1:
			return "has the fields " + quotedList(in, " and ") + ": give only one of them"
		}
	}
	if r, ok := v.(dependentRequired); ok {
		deps := r.DependentRequired()
		for _, name := range sortedKeys(deps) {
			if _, ok := obj[name]; !ok {
				continue
			}
			for _, need := range deps[name] {
				if _, ok := obj[need]; !ok {
					return "has the field " + strconv.Quote(name) + " without " + strconv.Quote(need) + ", which it needs"
				}
			}
		}
	}
	return ""
}

// quotedList is names quoted and joined: `"a" or "b"`.
func quotedList(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, sep)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// field is one JSON field of a struct type, with the rules its
// `jsonschema` tag gives (the schema generator reads the same tag).
type field struct {
	name     string
	index    []int
	typ      reflect.Type
	optional bool // omitempty or omitzero

	minimum, maximum *big.Float
	minLength        int
	pattern          *regexp.Regexp
}

// Patterns the errors say in words (what a value that does not match is).
var patternWords = map[string]string{
	`\S`:                 "blank",
	`^[Ff][Ii][Ll][Ee]:`: "not a file:// URI",
}

// checkString applies minLength and pattern ("" when s passes). The
// problem repeats the value: `is "   ", which is blank`; for an optional
// field it adds that leaving it out is the way to give none.
func (f *field) checkString(s string) string {
	if f == nil {
		return ""
	}
	var problem string
	switch {
	case utf8.RuneCountInString(s) < f.minLength && f.minLength == 1:
		problem = "which is empty"
	case utf8.RuneCountInString(s) < f.minLength:
		problem = fmt.Sprintf("shorter than %d characters", f.minLength)
	case f.pattern != nil && !f.pattern.MatchString(s):
		if w, ok := patternWords[f.pattern.String()]; ok {
			problem = "which is " + w
		} else {
			problem = "which does not match the pattern " + f.pattern.String()
		}
	default:
		return ""
	}
	problem = "is " + quote.String(s) + ", " + problem
	if f.optional {
		problem += " (leave the field out instead)"
	}
	return problem
}

// checkNumber applies minimum and maximum ("" when n passes).
func (f *field) checkNumber(n *big.Float) string {
	if f == nil {
		return ""
	}
	if f.minimum != nil && n.Cmp(f.minimum) < 0 {
		return "less than the minimum " + f.minimum.Text('g', -1)
	}
	if f.maximum != nil && n.Cmp(f.maximum) > 0 {
		return "more than the maximum " + f.maximum.Text('g', -1)
	}
	return ""
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists the JSON fields of struct type t, embedded structs'
// fields included, in order.
func fieldsOf(t reflect.Type) []field {
	if c, ok := fieldCache.Load(t); ok {
		return c.([]field)
	}
	var out []field
	ForEachField(t, func(sf reflect.StructField, index []int, name string, optional bool) {
		f := field{name: name, index: index, typ: sf.Type, optional: optional}
		for _, rule := range strings.Split(sf.Tag.Get("jsonschema"), ",") {
			key, val, _ := strings.Cut(rule, "=")
			switch key {
			case "minimum":
				f.minimum, _ = new(big.Float).SetString(val)
			case "maximum":
				f.maximum, _ = new(big.Float).SetString(val)
			case "minLength":
				f.minLength, _ = strconv.Atoi(val)
			case "pattern":
				f.pattern = regexp.MustCompile(val)
			}
		}
		out = append(out, f)
	})
	fieldCache.Store(t, out)
	return out
}

// ForEachField calls fn for each JSON field of struct type t, embedded
// structs' fields included, with its index (for FieldByIndex), its JSON
// name and whether it is optional (omitempty or omitzero).
func ForEachField(t reflect.Type, fn func(f reflect.StructField, index []int, name string, optional bool)) {
	forEachField(t, nil, fn)
}

func forEachField(t reflect.Type, prefix []int, fn func(f reflect.StructField, index []int, name string, optional bool)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			forEachField(f.Type, index, fn)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		fn(f, index, name, optional)
	}
}
