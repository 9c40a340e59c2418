package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// TestImageDataLimits: image data past 20 MiB, or images past 32 MiB
// together, are refused before they are decoded whole (the end-to-end
// test gives the limits by file: a 28 MB request is slow to build and
// parse under -race).
func TestImageDataLimits(t *testing.T) {
	// A 1×1 PNG's signature and header, which is what the bridge decodes
	// (image.DecodeConfig); the rest is not looked at.
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
	big := base64.StdEncoding.EncodeToString([]byte(png + strings.Repeat("x", 21<<20)))
	images := func(refs ...lspext.ImageRef) []imageInput {
		var out []imageInput
		for i, r := range refs {
			out = append(out, imageInput{r, fmt.Sprintf("images[%d]", i)})
		}
		return out
	}
	_, err := readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: big, MediaType: "image/png"}))
	if err == nil || !strings.Contains(err.Error(), `claude.run: arguments[0].images[0].data "`+big[:40]) || !strings.Contains(err.Error(), "is an image larger than 20 MiB") {
		t.Errorf("21 MiB of data: %v", err)
	}
	half := base64.StdEncoding.EncodeToString([]byte(png + strings.Repeat("x", 17<<20)))
	_, err = readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: half, MediaType: "image/png"}, lspext.ImageRef{Data: half, MediaType: "image/png"}))
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB together") {
		t.Errorf("two images of 17 MiB: %v", err)
	}
	got, err := readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: base64.StdEncoding.EncodeToString([]byte(png + "ok")), MediaType: "image/jpeg"}))
	if err != nil || len(got) != 1 || got[0].MediaType != "image/png" {
		t.Errorf("a PNG said to be a JPEG: %+v %v (its own type wins)", got, err)
	}
}

// TestDiagnosticsBounded: thousands of diagnostics (an editor's whole
// file's) make a prompt of at most 50 lines, errors first, the rest
// counted; a long message is cut; those outside the context's range are
// left out; codes read as LSP has them (a number without an exponent, VS
// Code's {value, target} by its value).
func TestDiagnosticsBounded(t *testing.T) {
	var diags []lspext.Diagnostic
	for i := 0; i < 3000; i++ {
		sev := 2
		if i%100 == 7 {
			sev = 1
		}
		diags = append(diags, lspext.Diagnostic{Range: lspext.Range{Start: lspext.Position{Line: uint32(i % 10)}, End: lspext.Position{Line: uint32(i % 10), Character: 4}},
			Severity: sev, Message: strings.Repeat("long message ", 100), Code: 1e6})
	}
	diags = append(diags,
		lspext.Diagnostic{Range: lspext.Range{Start: lspext.Position{Line: 900}, End: lspext.Position{Line: 900, Character: 1}}, Severity: 1, Message: "far away"},
		lspext.Diagnostic{Range: lspext.Range{Start: lspext.Position{Line: 10}, End: lspext.Position{Line: 10, Character: 1}}, Severity: 1, Message: "on the line the range ends before"},
	)
	rng := &lspext.Range{Start: lspext.Position{Line: 0}, End: lspext.Position{Line: 10}}
	text := diagnosticsText([]lspext.ContextRef{{URI: "file:///w/main.go", Range: rng, Diagnostics: diags}}, "/w")
	lines := strings.Split(text, "\n")
	if len(lines) != 1+50+1 || lines[len(lines)-1] != "(and 2950 more)" {
		t.Fatalf("%d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	if len(text) > 16<<10 {
		t.Errorf("%d bytes of diagnostics", len(text))
	}
	for i, l := range lines[1:31] {
		if !strings.Contains(l, ": error: ") != (i >= 30) {
			t.Errorf("line %d: %q: the 30 errors come first", i, l)
		}
	}
	if !strings.HasSuffix(lines[1], "… [1099 more characters] (1000000)") {
		t.Errorf("a line: %q", lines[1])
	}
	if strings.Contains(text, "far away") || strings.Contains(text, "ends before") {
		t.Error("diagnostics outside the range are listed")
	}
	for _, c := range []struct {
		code any
		want string
	}{
		{"E1", "E1"}, {float64(1001), "1001"}, {1e21, "1000000000000000000000"}, {map[string]any{"value": "x", "target": "y"}, "x"},
		{map[string]any{"value": float64(7)}, "7"}, {map[string]any{"target": "y"}, ""}, {true, ""}, {nil, ""},
	} {
		if got := diagnosticCode(c.code); got != c.want {
			t.Errorf("code %v: %q, want %q", c.code, got, c.want)
		}
	}
}
