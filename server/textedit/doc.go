// Package textedit is the pure text arithmetic the bridge needs to carry an
// agent's file changes into an editor's buffers: LSP positions in UTF-16 code
// units, applying editor content changes, minimal line/character diffs as
// LSP TextEdits, and a line-based three-way merge.
//
// Nothing here does I/O or keeps state; every function is safe for concurrent
// use. Texts are Go strings holding UTF-8 (invalid bytes count as one UTF-16
// unit each, which is what they become, U+FFFD, when encoded to JSON).
//
// Line breaks are "\n", "\r\n" and "\r", as in LSP. A "\r\n" is one break: no
// position, edit boundary or line split ever falls between its two bytes, and no
// boundary falls inside a UTF-8 sequence (so never inside a surrogate pair).
package textedit
