package stream

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Streamed text and UTF-16 surrogates. The Messages API streams text in
// deltas cut between UTF-16 code units, not characters: a character past
// U+FFFF (an emoji, each half of a flag) may end one delta with its high
// surrogate and begin the next with its low one. claude 2.1.332 prints
// each delta as JavaScript's JSON.stringify does, the lone halves escaped
// ("\ud83d" at the end of one line, "\ude00" at the start of the next;
// measured with a stand-in sending such deltas). A JSON decoder turns each
// half into U+FFFD, so the joined text would not be the API's. The text of
// a delta (Delta.Text, StreamEvent.Delta's Text and Thinking) is therefore
// decoded keeping an escaped surrogate that is not half of a pair, as the
// three bytes UTF-8 gives its code point (WTF-8), and a Joiner puts the
// halves of consecutive deltas back together.

// DeltaText is the text of a streamed delta: a JSON string decoded as
// encoding/json does, except that an escaped lone surrogate is kept as
// WTF-8 (see above). Hand it to a Joiner before use: only then is it
// valid UTF-8.
type DeltaText string

// UnmarshalJSON implements json.Unmarshaler; null leaves the text as it
// is, as it does for a string.
func (d *DeltaText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, ok := unquoteText(b)
	if !ok {
		return &textError{b}
	}
	*d = DeltaText(s)
	return nil
}

type textError struct{ tok []byte }

func (e *textError) Error() string {
	return "the text of a delta is not a JSON string: " + preview(e.tok)
}

// unquoteText decodes the JSON string token tok (quotes included) as
// encoding/json does, except that an escaped UTF-16 surrogate that is not
// half of an escaped pair is kept as WTF-8, where encoding/json gives
// U+FFFD. Bytes that are not UTF-8 become U+FFFD, one per byte, as there.
// ok is false when tok is not a valid JSON string.
func unquoteText(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	s := tok[1 : len(tok)-1]
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if !utf16.IsSurrogate(r) {
					b = utf8.AppendRune(b, r)
					continue
				}
				if r < 0xdc00 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2, ok := hex4(s[i+2:]); ok && r2 >= 0xdc00 && r2 < 0xe000 {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				b = appendSurrogate(b, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c == '"' || c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b), true
}

// hex4 reads the four hexadecimal digits s starts with.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendSurrogate appends the WTF-8 bytes of the surrogate r.
func appendSurrogate(b []byte, r rune) []byte {
	return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
}

// surrogateAt is the surrogate whose WTF-8 bytes s has at i, 0 if none
// (0xED followed by 0xA0 to 0xBF: UTF-8 never has those).
func surrogateAt(s string, i int) rune {
	if i < 0 || i+3 > len(s) || s[i] != 0xed || s[i+1] < 0xa0 || s[i+1] > 0xbf || s[i+2] < 0x80 || s[i+2] > 0xbf {
		return 0
	}
	return 0xd000 | rune(s[i+1]&0x3f)<<6 | rune(s[i+2]&0x3f)
}

// Joiner makes the text of the consecutive deltas of one content block
// valid UTF-8 that joins up to the API's text: a lone high surrogate that
// ends a delta is held until the next, and joined to the lone low one that
// begins it; any other lone surrogate is U+FFFD (the API's text has one
// there too). Its zero value is ready; one Joiner per block (or message),
// used by one goroutine.
type Joiner struct {
	high rune // the high surrogate the last delta ended with, 0 if none
}

// Next returns the text of the next delta, valid UTF-8 ("" when all of it
// is held). Text without a surrogate's bytes passes unchanged, without a
// copy.
func (j *Joiner) Next(text DeltaText) string {
	s := string(text)
	if s == "" || j.high == 0 && strings.IndexByte(s, 0xed) < 0 {
		return s // an empty delta keeps what is held
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	if j.high != 0 {
		if lo := surrogateAt(s, 0); lo >= 0xdc00 {
			b.WriteRune(utf16.DecodeRune(j.high, lo))
			s = s[3:]
		} else {
			b.WriteRune(utf8.RuneError)
		}
		j.high = 0
	}
	if hi := surrogateAt(s, len(s)-3); hi != 0 && hi < 0xdc00 {
		j.high = hi
		s = s[:len(s)-3]
	}
	for {
		i := strings.IndexByte(s, 0xed)
		if i < 0 {
			b.WriteString(s)
			break
		}
		if surrogateAt(s, i) != 0 {
			b.WriteString(s[:i])
			b.WriteRune(utf8.RuneError)
			s = s[i+3:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	return b.String()
}

// Flush returns what is held: U+FFFD for a high surrogate no low one
// followed (the API's text has U+FFFD there too), "" if nothing is. Call it
// when the block's deltas have ended.
func (j *Joiner) Flush() string {
	if j.high == 0 {
		return ""
	}
	j.high = 0
	return string(utf8.RuneError)
}

// Pending reports whether a high surrogate is held.
func (j *Joiner) Pending() bool { return j.high != 0 }
