package stream

import (
	"bytes"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"
)

// Delta is a streamed text or thinking delta: the line claude prints most
// with --include-partial-messages (one every few tokens).
type Delta struct {
	Thinking  bool      // a thinking_delta (Text is its thinking); else a text_delta
	Text      DeltaText // the delta's text (surrogates.go: give it to a Joiner)
	MessageID string    // api_message_id, "" when the line has none
}

var (
	deltaHead     = []byte(`{"type":"stream_event","event":{"type":"content_block_delta","index":`)
	textDeltaMid  = []byte(`,"delta":{"type":"text_delta","text":`)
	thinkDeltaMid = []byte(`,"delta":{"type":"thinking_delta","thinking":`)
)

// ParseDelta reads a text or thinking delta line in the shape the claude
// CLI 2.1.332 prints it:
//
//	{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"..."}},"session_id":"...","parent_tool_use_id":null,"uuid":"...","api_message_id":"msg_..."}
//
// without a generic decode (several times faster than Decode, on the line
// that makes up most of a streamed answer). It accepts only that shape:
// the event exactly so, then top-level fields whose values are strings or
// null, none of them repeated or named like a field Decode reads other
// than session_id and api_message_id, and parent_tool_use_id null (a
// subagent's delta, whose parent the caller must see, is left to Decode);
// anything else, whitespace between tokens included, gives ok false, and
// the caller decodes the line with Decode. When ok is true Decode returns the same delta (FuzzParseDelta).
func ParseDelta(b []byte) (d Delta, ok bool) {
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, deltaHead) {
		return Delta{}, false
	}
	i := len(deltaHead)
	n := 0
	for i+n < len(b) && b[i+n] >= '0' && b[i+n] <= '9' {
		n++
	}
	if n == 0 || n > 9 || n > 1 && b[i] == '0' {
		return Delta{}, false
	}
	i += n
	switch {
	case bytes.HasPrefix(b[i:], textDeltaMid):
		i += len(textDeltaMid)
	case bytes.HasPrefix(b[i:], thinkDeltaMid):
		i += len(thinkDeltaMid)
		d.Thinking = true
	default:
		return Delta{}, false
	}
	text, n, ok := textString(b[i:])
	if !ok || !bytes.HasPrefix(b[i+n:], []byte("}}")) {
		return Delta{}, false
	}
	d.Text = text
	i += n + 2
	var seen uint8 // the known keys met so far
	for {
		if i == len(b)-1 && b[i] == '}' {
			return d, true
		}
		if i >= len(b) || b[i] != ',' {
			return Delta{}, false
		}
		i++
		key, n, plain := rawString(b[i:])
		if n == 0 || !plain || i+n >= len(b) || b[i+n] != ':' {
			return Delta{}, false // a key with escapes may spell one Decode reads
		}
		i += n + 1
		bit := knownKey(key)
		if bit == 0 && (bytes.EqualFold(key, keyType) || bytes.EqualFold(key, keyEvent) ||
			bytes.EqualFold(key, keySession) || bytes.EqualFold(key, keyMessageID)) {
			// Decode would read it (it matches names without regard to
			// case, as encoding/json does): leave the line to it.
			return Delta{}, false
		}
		if seen&bit != 0 {
			return Delta{}, false
		}
		seen |= bit
		if bytes.HasPrefix(b[i:], []byte("null")) {
			if bit == bitMessageID {
				return Delta{}, false // Decode keeps the string field as it was; leave it to it
			}
			i += 4
			continue
		}
		if bit == bitParent {
			return Delta{}, false // a subagent's delta: Decode keeps its parent_tool_use_id
		}
		if bit == bitMessageID {
			v, n, ok := jsonString(b[i:])
			if !ok {
				return Delta{}, false
			}
			d.MessageID = v
			i += n
			continue
		}
		raw, n, plain := rawString(b[i:])
		if n == 0 {
			return Delta{}, false
		}
		if !plain || !utf8.Valid(raw) {
			if _, _, ok := jsonString(b[i:]); !ok {
				return Delta{}, false
			}
		}
		i += n
	}
}

var (
	keyType      = []byte("type")
	keyEvent     = []byte("event")
	keySession   = []byte("session_id")
	keyMessageID = []byte("api_message_id")
)

const (
	bitSession = 1 << iota
	bitMessageID
	bitParent
	bitUUID
)

// knownKey is the bit of a top-level key the CLI prints after the event,
// 0 for any other.
func knownKey(k []byte) uint8 {
	switch string(k) {
	case "session_id":
		return bitSession
	case "api_message_id":
		return bitMessageID
	case "parent_tool_use_id":
		return bitParent
	case "uuid":
		return bitUUID
	}
	return 0
}

// rawString finds the JSON string b starts with: its bytes between the
// quotes, its length in b (0: b does not start with a complete string
// free of control characters), and whether it has no escapes.
func rawString(b []byte) (raw []byte, n int, plain bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, 0, false
	}
	plain = true
	for j := 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[1:j], j + 1, plain
		case c == '\\':
			plain = false
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// jsonString reads the JSON string b starts with and returns its value and
// its length in b. ok is false when b does not start with a valid JSON
// string. A string with escapes or bytes that are not UTF-8 is decoded by
// the same decoder Decode uses, so the value is Decode's.
func jsonString(b []byte) (string, int, bool) { return stringToken(b, decodeString) }

// textString is jsonString for the text of a delta: a string with escapes
// is decoded keeping lone surrogates (unquoteText), as DeltaText is.
func textString(b []byte) (DeltaText, int, bool) {
	s, n, ok := stringToken(b, unquoteText)
	return DeltaText(s), n, ok
}

// stringToken reads the JSON string b starts with: its bytes when they
// need no decoding, else decode's value of the token.
func stringToken(b []byte, decode func(tok []byte) (string, bool)) (string, int, bool) {
	raw, n, plain := rawString(b)
	if n == 0 {
		return "", 0, false
	}
	if plain && utf8.Valid(raw) {
		return string(raw), n, true
	}
	s, ok := decode(b[:n])
	return s, n, ok
}

// decodeString decodes a JSON string token with Decode's decoder (kept
// apart so that only this rare path puts a string on the heap).
func decodeString(tok []byte) (string, bool) {
	var s string
	if err := fastjson.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}
