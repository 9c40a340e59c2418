package textedit

import "testing"

func TestLineEnding(t *testing.T) {
	cases := map[string]string{
		"":                 "",
		"one line":         "",
		"a\nb\n":           "\n",
		"a\r\nb\r\n":       "\r\n",
		"a\r\nb":           "\r\n",
		"a\rb\r":           "\r",
		"a\r\nb\nc\r\n":    "", // mixed: Neovim's fileformat=unix on a partly CRLF file
		"a\rb\n":           "",
		"a\r\r\n":          "",
		"\ufeffx\r\ny\r\n": "\r\n",
	}
	for in, want := range cases {
		if got := LineEnding(in); got != want {
			t.Errorf("LineEnding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConvertLineEndings(t *testing.T) {
	cases := []struct{ in, eol, want string }{
		{"a\nb\n", "\r\n", "a\r\nb\r\n"},
		{"a\r\nb\r\n", "\n", "a\nb\n"},
		{"a\r\nb\nc\rd", "\r\n", "a\r\nb\r\nc\r\nd"},
		{"a\r\nb\nc\rd", "\n", "a\nb\nc\nd"},
		{"a\r\n", "", "a\r\n"},
		{"no break", "\r\n", "no break"},
		{"😀\n\n", "\r\n", "😀\r\n\r\n"},
		{"a\r\r\nb", "\n", "a\n\nb"}, // "\r" then "\r\n": two breaks
	}
	for _, c := range cases {
		if got := ConvertLineEndings(c.in, c.eol); got != c.want {
			t.Errorf("ConvertLineEndings(%q, %q) = %q, want %q", c.in, c.eol, got, c.want)
		}
	}
	if !EqualIgnoringLineEndings("a\r\nb", "a\nb") || EqualIgnoringLineEndings("a\r\nb", "a\nb\n") {
		t.Error("EqualIgnoringLineEndings")
	}
}
