package main

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// docs are the doc comments of a package's declarations: types by name,
// fields by "Type.Field", constants by name, and the package's own.
type docs struct {
	pkg   string
	items map[string]string
}

// readDocs parses the Go files of dir (tests excluded) for their doc
// comments. invopop/jsonschema's AddGoComments does this too, but keys its
// map by a path relative to the working directory and keeps only a type
// comment's first sentence; descriptions here keep every sentence.
func readDocs(dir string) (*docs, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "lspext", doc.AllDecls|doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	d := &docs{pkg: clean(p.Doc), items: map[string]string{}}
	for _, t := range p.Types {
		d.items[t.Name] = clean(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := f.Doc.Text()
				if text == "" {
					text = f.Comment.Text()
				}
				for _, n := range f.Names {
					d.items[t.Name+"."+n.Name] = clean(text)
				}
			}
		}
		for _, v := range t.Consts {
			d.addValues(v)
		}
	}
	for _, v := range p.Consts {
		d.addValues(v)
	}
	return d, nil
}

func (d *docs) addValues(v *doc.Value) {
	for _, spec := range v.Decl.Specs {
		vs := spec.(*ast.ValueSpec)
		text := vs.Doc.Text()
		if text == "" {
			text = vs.Comment.Text()
		}
		for _, n := range vs.Names {
			d.items[n.Name] = clean(text)
		}
	}
}

// clean joins a comment's lines into paragraphs: one line per paragraph,
// paragraphs apart by a blank line, indented code kept as it is.
func clean(text string) string {
	var out []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, strings.Join(para, " "))
			para = nil
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			out = append(out, "")
		case strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "  "):
			flush()
			out = append(out, line)
		default:
			para = append(para, strings.TrimSpace(line))
		}
	}
	flush()
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// field is a field's description with its Go name at the start turned into
// its JSON name ("TaskID is the task" → "taskId is the task"), so that it
// reads right in TypeScript and Lua.
func (d *docs) field(typ, goName, jsonName string) string {
	text := d.items[typ+"."+goName]
	if rest, ok := strings.CutPrefix(text, goName+" "); ok {
		return jsonName + " " + rest
	}
	if rest, ok := strings.CutPrefix(text, goName+"'s "); ok {
		return jsonName + "'s " + rest
	}
	return text
}
