package lspext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// DecodeEvent decodes the params of a claude/event into the type of its
// kind, as strictly as Decode. The error names the kind and the field.
func DecodeEvent(data []byte) (Event, error) {
	var h EventHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("claude/event: %w", err)
	}
	ev := NewEvent(h.Kind)
	if ev == nil {
		return nil, fmt.Errorf("claude/event: unknown kind %q (want one of %v)", h.Kind, EventKinds)
	}
	if err := Decode(data, ev); err != nil {
		return nil, fmt.Errorf("claude/event %q: %w", h.Kind, err)
	}
	return ev, nil
}

// Decode decodes a protocol message into v (a pointer to one of this
// package's types) and fails, naming the field, when the message has a
// field v's type does not know, a field of the wrong type, or lacks a field
// that is always present (one without omitempty): a renamed or missing
// field becomes an error, never a zero value. The server decodes the
// commands' arguments with it (a -32602 error quotes it); tests decode
// what the server sends.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			what := "the value"
			if te.Field != "" {
				what = "field " + te.Field
			}
			return fmt.Errorf("%s is %s, not %s", what, article(te.Value), jsonType(te.Type))
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return checkFields(data, reflect.TypeOf(v), "")
}

// article puts "a" or "an" before a JSON type's name.
func article(what string) string {
	if what == "" {
		return "something else"
	}
	if strings.ContainsRune("aeiou", rune(what[0])) {
		return "an " + what
	}
	return "a " + what
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// checkFields reports the first field that data has and t (a struct, or
// a pointer, slice or map of them) does not know, or that t always has and
// data lacks, searching nested objects.
func checkFields(data []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte, json.RawMessage
			return nil
		}
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := checkFields(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil
	}
	var missing []string
	var nested error
	known := map[string]bool{}
	forEachField(t, func(f reflect.StructField, name string, optional bool) {
		known[name] = true
		raw, ok := obj[name]
		if !ok {
			if !optional {
				missing = append(missing, join(path, name))
			}
			return
		}
		if nested == nil {
			nested = checkFields(raw, f.Type, join(path, name))
		}
	})
	var unknown []string
	for name := range obj {
		if !known[name] {
			unknown = append(unknown, join(path, name))
		}
	}
	switch {
	case len(unknown) > 0:
		sort.Strings(unknown)
		return fmt.Errorf("unknown field %q", unknown[0])
	case len(missing) > 0:
		sort.Strings(missing)
		return fmt.Errorf("missing field %s", strings.Join(missing, ", "))
	}
	return nested
}

// join names a field of the value at path ("" for the top).
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// forEachField calls fn for each JSON field of struct type t, embedded
// structs' fields included, with its JSON name and whether it is optional
// (omitempty or omitzero).
func forEachField(t reflect.Type, fn func(f reflect.StructField, name string, optional bool)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			forEachField(f.Type, fn)
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		fn(f, name, optional)
	}
}
