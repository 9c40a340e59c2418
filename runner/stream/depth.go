package stream

import (
	"errors"

	"github.com/claude-bridge/claude-bridge/internal/jsondepth"
)

// MaxDepth caps the nesting of a stream line's JSON. The deepest line the
// real CLI prints is a tool input inside a message inside a line, a dozen
// levels or so; a recursive decoder given millions of levels would blow
// the stack, so deeper lines are refused before decoding.
const MaxDepth = 512

// ErrTooDeep is returned by Decode for a line nested deeper than MaxDepth.
var ErrTooDeep = errors.New("stream line nested too deeply")

// TooDeep reports whether b nests deeper than max (see jsondepth).
func TooDeep(b []byte, max int) bool { return jsondepth.TooDeep(b, max) }
