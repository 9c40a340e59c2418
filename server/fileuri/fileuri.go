// Package fileuri converts between the file URIs editors send (RFC 8089) and
// file paths. It is the one place the bridge turns a URI into a path: the
// workspace folders, the open documents and the context of a task all go
// through it.
//
// It parses with net/url, never by string prefix, and accepts every spelling
// editors use for the same file:
//
//   - file:///home/me/a.go (VS Code, Neovim), file:/home/me/a.go (the RFC 8089
//     short form: Eclipse LSP4E, Java clients), file://localhost/home/me/a.go;
//   - percent-encoding of any character (%20, %C3%A4, %2B, %23);
//   - Windows drive letters, encoded or not (file:///c%3A/Users/me/a.go,
//     file:///C:/Users/me/a.go) and UNC shares (file://server/share/a.go).
//     Windows spellings are parsed the same on every system (ParseFor), so
//     they are tested here even where they cannot be opened.
package fileuri

import (
	"errors"
	"fmt"
	"github.com/claude-bridge/claude-bridge/internal/quote"
	"net/url"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNotFile is wrapped by the error for a URI of another scheme (untitled:,
// vscode-notebook-cell:, vscode-vfs:): a document that has no file.
var ErrNotFile = errors.New("not a file URI")

// ToPath returns the absolute, cleaned file path of a file URI on this
// system. The error says what is wrong with the URI (and wraps ErrNotFile
// for another scheme).
func ToPath(u string) (string, error) {
	return ParseFor(u, runtime.GOOS == "windows")
}

// ParseFor is ToPath for a Windows system (windows=true: drive letters, UNC
// shares, backslashes) or any other (forward slashes, no host but
// localhost), whatever system it runs on.
func ParseFor(u string, windows bool) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("%s is not a valid URI: %v", quote.String(u), unwrapURLError(err))
	}
	if pu.Scheme != "file" {
		if pu.Scheme == "" {
			return "", fmt.Errorf("%s is not a URI (file URIs start with file://): %w", quote.String(u), ErrNotFile)
		}
		return "", fmt.Errorf("%s is a %s: URI: %w", quote.String(u), quote.Text(pu.Scheme), ErrNotFile)
	}
	if pu.Opaque != "" {
		// file:relative/path: RFC 8089 has no relative file URIs.
		return "", fmt.Errorf("%s is not an absolute file URI", quote.String(u))
	}
	if pu.RawQuery != "" || pu.Fragment != "" || pu.ForceQuery {
		return "", fmt.Errorf("%s has a query or fragment: a file name holding ? or # must be percent-encoded (%%3F, %%23)", quote.String(u))
	}
	p := pu.Path
	host := pu.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = ""
	}
	if !windows {
		if host != "" {
			return "", fmt.Errorf("%s names a file on host %s, not on this machine", quote.String(u), quote.Text(host))
		}
		if !strings.HasPrefix(p, "/") {
			return "", fmt.Errorf("%s has no absolute path", quote.String(u))
		}
		return path.Clean(p), nil
	}
	if host != "" { // \\server\share\...
		if p == "" || p == "/" {
			return "", fmt.Errorf("%s names a host but no share", quote.String(u))
		}
		return `\\` + host + windowsClean(p), nil
	}
	// /c:/x (the usual spelling) or c:/x (some clients drop the slash).
	p = strings.TrimPrefix(p, "/")
	if len(p) < 2 || p[1] != ':' || !isLetter(p[0]) {
		return "", fmt.Errorf("%s has no drive letter (file:///C:/...)", quote.String(u))
	}
	return p[:2] + windowsClean(p[2:]), nil
}

// windowsClean cleans the part of a Windows path after its volume, with
// backslashes: "/Users/me/../x" → `\Users\x`.
func windowsClean(p string) string {
	return strings.ReplaceAll(path.Clean("/"+p), "/", `\`)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// FromPath returns the file URI of an absolute path on this system,
// percent-encoded as RFC 3986 requires (file:///home/me/a%20b.go,
// file:///C:/Users/me/a.go on Windows).
func FromPath(p string) string {
	p = filepath.Clean(p)
	if runtime.GOOS == "windows" {
		p = filepath.ToSlash(p)
		if strings.HasPrefix(p, "//") { // UNC: //server/share/x
			rest := strings.TrimPrefix(p, "//")
			host, tail, _ := strings.Cut(rest, "/")
			return (&url.URL{Scheme: "file", Host: host, Path: "/" + tail}).String()
		}
		if len(p) >= 2 && p[1] == ':' {
			p = "/" + p
		}
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}
