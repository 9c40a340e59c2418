package stream

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"
)

// stringify is JavaScript's JSON.stringify of a string given as UTF-16
// code units, as claude prints a delta's text: a lone surrogate escaped
// (lower-case hex), a pair as its character in UTF-8.
func stringify(units []uint16) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		switch {
		case u >= 0xd800 && u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] < 0xe000:
			b.WriteRune(utf16.DecodeRune(u, rune(units[i+1])))
			i++
		case utf16.IsSurrogate(u):
			fmt.Fprintf(&b, `\u%04x`, u)
		case u == '"':
			b.WriteString(`\"`)
		case u == '\\':
			b.WriteString(`\\`)
		case u == '\n':
			b.WriteString(`\n`)
		case u == '\r':
			b.WriteString(`\r`)
		case u == '\t':
			b.WriteString(`\t`)
		case u == '\b':
			b.WriteString(`\b`)
		case u == '\f':
			b.WriteString(`\f`)
		case u < 0x20:
			fmt.Fprintf(&b, `\u%04x`, u)
		default:
			b.WriteRune(u)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// deltaLine is the line claude prints for a text delta whose JSON string
// is js.
func deltaLine(js string) []byte {
	return []byte(strings.Replace(cliDelta, `"Streaming "`, js, 1))
}

// streamed splits text into deltas at the UTF-16 offsets cuts (in
// order), prints each as claude does, reads the lines back with
// ParseDelta (and, to check the other path, Decode) and joins them with a
// Joiner. It returns the joined text and the texts handed on.
func streamed(t *testing.T, text string, cuts []int) (string, []string) {
	t.Helper()
	units := utf16.Encode([]rune(text))
	var j, jd Joiner
	var joined, decoded strings.Builder
	var parts []string
	prev := 0
	for _, c := range append(cuts, len(units)) {
		c = min(max(c, prev), len(units))
		line := deltaLine(stringify(units[prev:c]))
		prev = c
		d, ok := ParseDelta(line)
		if !ok {
			t.Fatalf("ParseDelta refused %s", line)
		}
		part := j.Next(d.Text)
		if !utf8.ValidString(part) {
			t.Fatalf("a Joiner handed on text that is not UTF-8: %q (line %s)", part, line)
		}
		parts = append(parts, part)
		joined.WriteString(part)
		l, err := Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		decoded.WriteString(jd.Next(l.Event.Delta.Text))
	}
	joined.WriteString(j.Flush())
	decoded.WriteString(jd.Flush())
	if joined.String() != decoded.String() {
		t.Fatalf("ParseDelta's deltas join to %q, Decode's to %q", joined.String(), decoded.String())
	}
	return joined.String(), parts
}

// A character past U+FFFF cut between its surrogates (an emoji, the halves
// of a flag, as the API cuts them) joins up to the API's text, whichever
// code unit the cut falls after; no delta handed on carries U+FFFD.
func TestJoinerJoinsSurrogatesSplitAcrossDeltas(t *testing.T) {
	for _, text := range []string{"😀", "a😀b", "🇫🇷🇩🇪", "x\"😀\\\n🎉y", "𝄞 and 中文 and 한국어 텭"} {
		n := len(utf16.Encode([]rune(text)))
		for cut := 0; cut <= n; cut++ {
			got, parts := streamed(t, text, []int{cut})
			if got != text {
				t.Errorf("%q cut at unit %d: joined %q", text, cut, got)
			}
			for _, p := range parts {
				if strings.ContainsRune(p, utf8.RuneError) {
					t.Errorf("%q cut at unit %d: a delta handed on %q", text, cut, p)
				}
			}
		}
		// Every code unit in a delta of its own.
		cuts := make([]int, n)
		for i := range cuts {
			cuts[i] = i + 1
		}
		if got, _ := streamed(t, text, cuts); got != text {
			t.Errorf("%q one unit per delta: joined %q", text, got)
		}
	}
}

// A surrogate with no partner is U+FFFD, as the API's final text (decoded
// by encoding/json) has it: in the middle of a delta, at the start of the
// first, and at the end of the last (Flush).
func TestJoinerLoneSurrogatesAreReplacementCharacters(t *testing.T) {
	var j Joiner
	line := func(js string) DeltaText {
		d, ok := ParseDelta(deltaLine(js))
		if !ok {
			t.Fatalf("ParseDelta refused %s", js)
		}
		return d.Text
	}
	got := j.Next(line(`"\ude00a\ud83db\ud83d"`))
	if got != "\ufffda\ufffdb" || !j.Pending() {
		t.Fatalf("Next = %q (pending %v)", got, j.Pending())
	}
	if got := j.Next(line(`"c"`)); got != "\ufffdc" {
		t.Errorf("a held high surrogate with no low one after it: %q", got)
	}
	j.Next(line(`"\ud83d"`))
	if got := j.Flush(); got != "\ufffd" || j.Pending() {
		t.Errorf("Flush = %q", got)
	}
	if got := j.Flush(); got != "" {
		t.Errorf("second Flush = %q", got)
	}
	// A raw (unescaped) surrogate's bytes are not UTF-8: each byte is
	// U+FFFD as encoding/json makes it, never held or joined.
	d, ok := ParseDelta(deltaLine("\"\xed\xa0\xbd\""))
	if !ok {
		t.Fatal("ParseDelta refused raw bytes")
	}
	if got := j.Next(d.Text); got != "\ufffd\ufffd\ufffd" || j.Pending() {
		t.Errorf("raw surrogate bytes: %q", got)
	}
	// Hangul (U+D000 to U+D7FF) starts with the byte 0xED too.
	if got := j.Next(DeltaText("텭힣")); got != "텭힣" {
		t.Errorf("Hangul: %q", got)
	}
}

// withoutSurrogates is s with each WTF-8 surrogate replaced by U+FFFD: what
// encoding/json makes of the same token.
func withoutSurrogates(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if surrogateAt(s, i) != 0 {
			b.WriteRune(utf8.RuneError)
			i += 3
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// FuzzJoin: text cut into deltas at any UTF-16 offsets, printed as claude
// prints them, read and joined, is the text again; and unquoteText reads
// every token as the JSON decoder does, but for the lone surrogates it
// keeps.
func FuzzJoin(f *testing.F) {
	f.Add("a😀b🇫🇷", uint8(2), uint8(3), uint8(4))
	f.Add("😀", uint8(1), uint8(1), uint8(0))
	f.Add("\"\\\n\x01 é 中", uint8(0), uint8(5), uint8(9))
	f.Add("\xff\xfe", uint8(1), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, text string, a, b, c uint8) {
		text = strings.ToValidUTF8(text, "\ufffd")
		got, _ := streamed(t, text, []int{int(a), int(a) + int(b), int(a) + int(b) + int(c)})
		if got != text {
			t.Fatalf("%q cut at %d, %d, %d: joined %q", text, a, int(a)+int(b), int(a)+int(b)+int(c), got)
		}
		// The same bytes as a raw token.
		tok := []byte(`"` + text + `"`)
		var want string
		err := fastjson.Unmarshal(tok, &want)
		s, ok := unquoteText(tok)
		if ok != (err == nil) || ok && withoutSurrogates(s) != want {
			t.Fatalf("unquoteText(%q) = %q, %v; the JSON decoder: %q, %v", tok, s, ok, want, err)
		}
	})
}

// unquoteText reads what the JSON decoder reads, escapes of every kind
// and bytes that are not UTF-8 included, but keeps lone surrogates.
func TestUnquoteTextAsTheJSONDecoder(t *testing.T) {
	for _, tok := range []string{
		`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u4E2D"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`,
		`"\ud83d\ud83d\ude00"`, `"\ud83d\u0041"`, `"\ud83dx"`, "\"\xff\xfe\"", "\"\xed\xa0\xbd\"", `"\u0000"`,
		`"\x"`, `"\u12"`, `"\u12g4"`, `"a`, "\"a\nb\"", `"a"b"`, `"\"`,
	} {
		var want string
		err := fastjson.Unmarshal([]byte(tok), &want)
		s, ok := unquoteText([]byte(tok))
		if ok != (err == nil) || ok && withoutSurrogates(s) != want {
			t.Errorf("unquoteText(%s) = %q, %v; the JSON decoder: %q, %v", tok, s, ok, want, err)
		}
	}
	if s, _ := unquoteText([]byte(`"\ud83d"`)); s != "\xed\xa0\xbd" {
		t.Errorf("a lone high surrogate: %q, want its WTF-8 bytes", s)
	}
}

func BenchmarkJoinerPlain(b *testing.B) {
	var j Joiner
	text := DeltaText("plain streamed text of a few words ")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = j.Next(text)
	}
}
