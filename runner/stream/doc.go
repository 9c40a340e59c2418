// Package stream reads and decodes the stream-json output of the claude CLI
// (`--output-format stream-json --verbose`): one JSON object per line.
//
// It is pure: it turns bytes into typed Lines and never starts processes.
// Lines can be very large (a Read tool result carries a whole file), so the
// Reader grows its buffer up to a configurable cap instead of using
// bufio.Scanner's 64 KiB default.
package stream
