package lspstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxHeaderLine caps one header line. Real headers are a few dozen
// bytes; a line past this is a framing error, skipped without being held.
const DefaultMaxHeaderLine = 8 << 10

// maxHeaderLines caps the header lines of one frame.
const maxHeaderLines = 32

var contentLength = []byte("content-length:")

// frameReader splits the input into frames (LSP base protocol: header
// lines, a blank line, a body of Content-Length bytes) and, after a
// framing error, resynchronises on the next "Content-Length:" header.
// Nothing it holds grows past the caps: a header line past maxLine is
// dropped as it streams, a body past maxBody is skipped as it streams.
type frameReader struct {
	r       io.Reader
	buf     []byte // read, not yet consumed
	maxLine int
	maxBody int64
	resync  bool // after a framing error: skip to the next Content-Length header
	err     error
}

func newFrameReader(r io.Reader, maxBody int64, maxLine int) *frameReader {
	return &frameReader{r: r, maxBody: maxBody, maxLine: maxLine}
}

// fill reads more input; false at the end of it (fr.err says why).
func (fr *frameReader) fill() bool {
	if fr.err != nil {
		return false
	}
	var chunk [32 << 10]byte
	n, err := fr.r.Read(chunk[:])
	fr.buf = append(fr.buf, chunk[:n]...)
	if err != nil {
		fr.err = err
	}
	return n > 0 || err == nil
}

// unread puts b back in front of the input.
func (fr *frameReader) unread(b []byte) {
	if len(b) > 0 {
		fr.buf = append(append([]byte(nil), b...), fr.buf...)
	}
}

// badFrame is a framing error; the reader is resynchronising after it.
type badFrame struct{ msg string }

func (b *badFrame) Error() string { return b.msg }

// next returns the next frame's body. A framing error comes back as a
// *badFrame (the reader has already moved past it); any other error is the
// input's (io.EOF at a clean end).
func (fr *frameReader) next() ([]byte, int64, error) {
	if fr.resync {
		if !fr.skipToHeader() {
			return nil, 0, fr.endErr()
		}
		fr.resync = false
	}
	length := int64(-1)
	var problem string
	lines, total := 0, int64(0)
	var block []byte // the header lines read, to look again inside after an error
	for {
		line, n, err := fr.readLine()
		total += n
		if err == nil && len(line) > 0 {
			block = append(append(block, line...), '\n')
		}
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				fr.resync = true
				return nil, total, &badFrame{msg: fmt.Sprintf("header line longer than %d bytes", fr.maxLine)}
			}
			if errors.Is(err, io.EOF) && total == 0 {
				return nil, 0, io.EOF
			}
			return nil, total, fmt.Errorf("reading header: %w", err)
		}
		if len(line) == 0 {
			if lines == 0 {
				continue // stray blank lines between frames
			}
			break
		}
		if lines++; lines > maxHeaderLines {
			fr.resync = true
			return nil, total, &badFrame{msg: fmt.Sprintf("more than %d header lines", maxHeaderLines)}
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			problem = fmt.Sprintf("invalid header line %q", trunc(string(line)))
			continue
		}
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			v, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
			if err != nil || v < 0 {
				problem = fmt.Sprintf("invalid Content-Length %q", trunc(string(value)))
				length = -1
				continue
			}
			length = v
		}
	}
	if problem != "" || length < 0 {
		if problem == "" {
			problem = "missing Content-Length header"
		}
		// The next frame's header may have run into a bad line (garbage
		// without a line break before it): look again from just past the
		// start of this block.
		if len(block) > 1 {
			fr.unread(append(block[1:len(block):len(block)], '\n'))
		}
		fr.resync = true
		return nil, total, &badFrame{msg: problem}
	}
	if length > fr.maxBody {
		if !fr.skipBody(length) {
			return nil, total, fmt.Errorf("skipping an over-long message: %w", fr.endErr())
		}
		return nil, total + length, &badFrame{msg: fmt.Sprintf("message of %d bytes exceeds the limit of %d", length, fr.maxBody)}
	}
	body, err := fr.readBody(int(length))
	if err != nil {
		return nil, total, err
	}
	return body, total + length, nil
}

func (fr *frameReader) endErr() error {
	if fr.err == nil || errors.Is(fr.err, io.EOF) {
		return io.EOF
	}
	return fr.err
}

var errLineTooLong = errors.New("header line too long")

// dropFront discards the first n bytes of the buffer, moving the rest to
// its start so that the buffer does not grow as junk streams through.
func (fr *frameReader) dropFront(n int) int64 {
	fr.buf = append(fr.buf[:0], fr.buf[n:]...)
	return int64(n)
}

// readLine returns the next line without its line break, and how many
// bytes it consumed. A line past maxLine is errLineTooLong: the caller
// resynchronises. Of such a line only its last maxLine bytes are kept
// (no more is held), since a real header may have run into it: garbage
// without a line break followed directly by a frame makes one long line
// that ends in that frame's "Content-Length: N" (a header starting
// earlier would itself be a line past the cap).
func (fr *frameReader) readLine() ([]byte, int64, error) {
	for {
		if i := bytes.IndexByte(fr.buf, '\n'); i >= 0 {
			if i > fr.maxLine {
				return nil, fr.dropFront(i - fr.maxLine), errLineTooLong
			}
			line := fr.buf[:i]
			fr.buf = fr.buf[i+1:]
			return bytes.TrimSuffix(line, []byte{'\r'}), int64(i + 1), nil
		}
		if len(fr.buf) > fr.maxLine {
			return nil, fr.dropFront(len(fr.buf) - fr.maxLine), errLineTooLong
		}
		if !fr.fill() {
			if len(fr.buf) == 0 {
				return nil, 0, fr.endErr()
			}
			return nil, 0, io.ErrUnexpectedEOF
		}
	}
}

// readBody reads a body of n bytes into a buffer of exactly n bytes, the
// rest straight from the input (a 128 MiB body costs 128 MiB, not the
// four times that growing the read buffer chunk by chunk took). If the
// bytes read contain a complete Content-Length header line, the length
// was wrong (raw line breaks cannot occur inside a JSON string, and a
// header cannot occur outside one): the frame is refused there, without
// waiting for bytes that may never come, and the reader resynchronises
// from the start of the body.
func (fr *frameReader) readBody(n int) ([]byte, error) {
	take := min(len(fr.buf), n)
	body := append(make([]byte, 0, n), fr.buf[:take]...)
	fr.buf = fr.buf[take:]
	scanned := 0
	for len(body) < n {
		if headerInside(body, scanned) >= 0 {
			fr.unread(body)
			fr.resync = true
			return nil, &badFrame{msg: "Content-Length runs into the next message"}
		}
		scanned = max(len(body)-64, 0)
		if fr.err != nil {
			return nil, fmt.Errorf("reading message body: %w", io.ErrUnexpectedEOF)
		}
		k, err := fr.r.Read(body[len(body):n])
		body = body[:len(body)+k]
		if err != nil {
			fr.err = err
		}
	}
	return body, nil
}

// skipBody discards n bytes as they come (the body of a frame over the
// cap), unless a header line shows up in them first: then the length was
// a lie and the reader resynchronises there.
func (fr *frameReader) skipBody(n int64) bool {
	for n > 0 {
		if len(fr.buf) == 0 && !fr.fill() {
			return false
		}
		k := int64(len(fr.buf))
		if k > n {
			k = n
		}
		if i := headerInside(fr.buf[:k], 0); i >= 0 {
			fr.buf = fr.buf[i:]
			return true
		}
		// Keep a tail that may be the start of a header split across reads.
		keep := int64(0)
		if k == int64(len(fr.buf)) && k < n {
			keep = min(k, 64)
		}
		fr.buf = fr.buf[k-keep:]
		n -= k - keep
		if keep > 0 && !fr.fill() {
			return false
		}
	}
	return true
}

// skipToHeader discards input up to the next "Content-Length:" (any case)
// and leaves it first in the buffer; false at the end of the input.
func (fr *frameReader) skipToHeader() bool {
	for {
		if i := indexFold(fr.buf, contentLength); i >= 0 {
			fr.buf = fr.buf[i:]
			return true
		}
		if keep := len(contentLength) - 1; len(fr.buf) > keep {
			fr.buf = append(fr.buf[:0], fr.buf[len(fr.buf)-keep:]...)
		}
		if !fr.fill() {
			return false
		}
	}
}

// headerInside finds, at or after from, a complete "Content-Length: N"
// line (the start of another frame) in b; -1 if none.
func headerInside(b []byte, from int) int {
	for off := from; off < len(b); {
		i := indexFold(b[off:], contentLength)
		if i < 0 {
			return -1
		}
		start := off + i
		j := start + len(contentLength)
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j > d && j < len(b) && (b[j] == '\r' || b[j] == '\n') {
			return start
		}
		off = start + 1
	}
	return -1
}

// indexFold is bytes.Index ignoring ASCII case; sep is lower case.
func indexFold(b, sep []byte) int {
	for i := 0; i+len(sep) <= len(b); i++ {
		j := bytes.IndexAny(b[i:], "cC")
		if j < 0 {
			return -1
		}
		i += j
		if i+len(sep) > len(b) {
			return -1
		}
		if bytes.EqualFold(b[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}
