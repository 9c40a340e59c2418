package lspext

import (
	"bytes"
	"encoding/json"
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
// that is always present (one without omitempty). It is for tests and
// tools: a renamed or missing field becomes an error, never a zero value.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return checkRequired(data, reflect.TypeOf(v), "")
}

// checkRequired reports the first field that t (a struct, or a pointer,
// slice or map of them) always has but data lacks, searching nested objects.
func checkRequired(data []byte, t reflect.Type, path string) error {
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
			if err := checkRequired(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
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
	forEachField(t, func(f reflect.StructField, name string, optional bool) {
		raw, ok := obj[name]
		if !ok {
			if !optional {
				missing = append(missing, join(path, name))
			}
			return
		}
		if nested == nil {
			nested = checkRequired(raw, f.Type, join(path, name))
		}
	})
	if len(missing) > 0 {
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
