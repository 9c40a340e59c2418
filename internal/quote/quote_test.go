package quote

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	if got := String("a\"b"); got != `"a\"b"` {
		t.Errorf("short: %s", got)
	}
	long := strings.Repeat("T", 10_000_000)
	got := String(long)
	if want := `"` + strings.Repeat("T", Max) + `…" (10000000 characters)`; got != want {
		t.Errorf("long: %s", got)
	}
	if got := String(strings.Repeat("ä", Max+1)); !strings.HasSuffix(got, `…" (65 characters)`) || strings.Count(got, "ä") != Max {
		t.Errorf("counts characters, not bytes: %s", got)
	}
	if got := Text(strings.Repeat("9", 100)); got != strings.Repeat("9", Max)+"…" {
		t.Errorf("Text: %s", got)
	}
}
