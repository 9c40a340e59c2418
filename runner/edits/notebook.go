package edits

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// node is a JSON value with its objects' key order kept, as JavaScript
// keeps it (claude rewrites a notebook through JSON.parse and
// JSON.stringify).
type node struct {
	kind  byte // '{', '[', '"', or 'v' for a number, true, false, null
	keys  []string
	vals  []*node
	items []*node
	str   string // a string's value, or a literal's text
}

func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func str(s string) *node { return &node{kind: '"', str: s} }
func lit(s string) *node { return &node{kind: 'v', str: s} }
func obj() *node         { return &node{kind: '{'} }

// parseNode parses JSON keeping key order.
func parseNode(b []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := obj()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, kt.(string))
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{kind: '['}
			for dec.More() {
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return str(t), nil
	case json.Number:
		return lit(t.String()), nil
	case bool:
		return lit(strconv.FormatBool(t)), nil
	case nil:
		return lit("null"), nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// stringify writes n as JSON.stringify(n, null, 1) does.
func stringify(b *strings.Builder, n *node, indent int) {
	pad := func(k int) {
		b.WriteByte('\n')
		for i := 0; i < k; i++ {
			b.WriteByte(' ')
		}
	}
	switch n.kind {
	case '{', '[':
		// An object's members and an array's items are laid out alike: one
		// a line, one space deeper; an object's with its key first.
		closer, count := byte(']'), len(n.items)
		if n.kind == '{' {
			closer, count = '}', len(n.keys)
		}
		if count == 0 {
			b.WriteByte(n.kind)
			b.WriteByte(closer)
			return
		}
		b.WriteByte(n.kind)
		for i := 0; i < count; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			pad(indent + 1)
			v := (*node)(nil)
			if n.kind == '{' {
				quoteJS(b, n.keys[i])
				b.WriteString(": ")
				v = n.vals[i]
			} else {
				v = n.items[i]
			}
			stringify(b, v, indent+1)
		}
		pad(indent)
		b.WriteByte(closer)
	case '"':
		quoteJS(b, n.str)
	default:
		b.WriteString(n.str)
	}
}

// quoteJS quotes s as JSON.stringify does: only ", \ and control
// characters are escaped.
func quoteJS(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// cellSource is a cell's source as one string (nbformat allows a list of
// lines).
func cellSource(c *node) string {
	s := c.get("source")
	switch {
	case s == nil:
		return ""
	case s.kind == '"':
		return s.str
	case s.kind == '[':
		var b strings.Builder
		for _, it := range s.items {
			b.WriteString(it.str)
		}
		return b.String()
	}
	return ""
}

// findCell is the index of the cell with id (or "cell-N", claude's name
// for the Nth cell of a notebook without ids); -1 when there is none.
func findCell(cells []*node, id string) int {
	for i, c := range cells {
		if v := c.get("id"); v != nil && v.kind == '"' && v.str == id {
			return i
		}
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(id, "cell-")); err == nil && strings.HasPrefix(id, "cell-") && n >= 0 && n < len(cells) {
		return n
	}
	return -1
}

func newCellID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func applyNotebook(f File, in input) ([]byte, error) {
	if !f.Exists {
		return nil, errors.New("Notebook file does not exist.")
	}
	text, enc, err := view(f)
	if err != nil {
		return nil, err
	}
	nb, err := parseNode([]byte(strings.TrimPrefix(text, bom)))
	if err != nil || nb.kind != '{' {
		return nil, errors.New("Notebook is not valid JSON.")
	}
	cellsNode := nb.get("cells")
	if cellsNode == nil || cellsNode.kind != '[' {
		return nil, errors.New("Notebook has no cells.")
	}
	mode := in.EditMode
	if mode == "" {
		mode = "replace"
	}
	src := ""
	if in.NewSource != nil {
		src = *in.NewSource
	}
	cells := cellsNode.items
	at := -1
	if in.CellID != "" {
		if at = findCell(cells, in.CellID); at < 0 {
			return nil, fmt.Errorf("Cell with ID %q not found in notebook.", in.CellID)
		}
	}
	switch mode {
	case "replace":
		if at < 0 {
			return nil, errors.New("Cell ID must be specified when not inserting a new cell.")
		}
		c := cells[at]
		c.set("source", str(src))
		if in.CellType != "" {
			c.set("cell_type", str(in.CellType))
		}
		if t := c.get("cell_type"); t != nil && t.str == "code" {
			c.set("execution_count", lit("null"))
			c.set("outputs", &node{kind: '['})
		}
	case "insert":
		typ := in.CellType
		if typ == "" {
			return nil, errors.New("Cell type is required when using edit_mode=insert.")
		}
		c := obj()
		c.set("cell_type", str(typ))
		c.set("id", str(newCellID()))
		c.set("source", str(src))
		c.set("metadata", obj())
		if typ == "code" {
			c.set("execution_count", lit("null"))
			c.set("outputs", &node{kind: '['})
		}
		pos := at + 1
		cells = append(cells[:pos], append([]*node{c}, cells[pos:]...)...)
	case "delete":
		if at < 0 {
			return nil, errors.New("Cell ID must be specified when not inserting a new cell.")
		}
		cells = append(cells[:at], cells[at+1:]...)
	default:
		return nil, fmt.Errorf("Edit mode must be replace, insert, or delete, not %q.", mode)
	}
	cellsNode.items = cells
	var b strings.Builder
	stringify(&b, nb, 0)
	b.WriteByte('\n')
	enc.crlf = false
	out := b.String()
	if enc.bom && !enc.utf16 {
		out = bom + out
	}
	return encode(out, enc), nil
}

// notebookSource is the new_source of a NotebookEdit (replace mode) that
// leaves target: the edited cell's source in target, when target differs
// from what the call would leave in that cell only.
func notebookSource(raw json.RawMessage, f File, target []byte) (string, error) {
	var in input
	if json.Unmarshal(raw, &in) != nil || (in.EditMode != "" && in.EditMode != "replace") || in.CellID == "" {
		return "", ErrCannotExpress
	}
	nb, err := parseNode(bytes.TrimPrefix(target, []byte(bom)))
	if err != nil || nb.kind != '{' {
		return "", ErrCannotExpress
	}
	cells := nb.get("cells")
	if cells == nil || cells.kind != '[' {
		return "", ErrCannotExpress
	}
	at := findCell(cells.items, in.CellID)
	if at < 0 {
		return "", ErrCannotExpress
	}
	return cellSource(cells.items[at]), nil
}
