package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the default cap on one stream line: generous enough for a
// Read result of a large file, small enough that a runaway line cannot take
// all the memory of the machine.
const DefaultMaxLine = 64 << 20

// ErrLineTooLong is wrapped by the error Reader.Next returns for a line over
// the cap. The reader has skipped that line and can go on.
var ErrLineTooLong = errors.New("stream line exceeds the size cap")

// Reader splits a byte stream into lines of at most Max bytes.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewReader reads lines from r; max <= 0 means DefaultMaxLine.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &Reader{r: bufio.NewReaderSize(r, 256<<10), max: max}
}

// Next returns the next line without its line break. The slice is valid
// until the next call. At the end of the input it returns io.EOF; a line
// over the cap is skipped whole and reported with ErrLineTooLong.
func (r *Reader) Next() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.r.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(chunk) > r.max+1 { // +1: the '\n' itself
				tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, fmt.Errorf("%w (%d bytes)", ErrLineTooLong, r.max)
			}
			return trimEOL(r.buf), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if tooLong || len(r.buf) > r.max { // no '\n' to allow for at the end
				r.buf = r.buf[:0]
				return nil, fmt.Errorf("%w (%d bytes)", ErrLineTooLong, r.max)
			}
			if len(r.buf) > 0 {
				return trimEOL(r.buf), nil
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

// Buffered reports how many bytes of input are already read and waiting:
// zero means the next Next would wait for the writer.
func (r *Reader) Buffered() int { return r.r.Buffered() }

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}
