package textedit

import (
	"go.lsp.dev/protocol"
)

// Diff returns edits that turn old into new: sorted, non-overlapping, every
// range relative to old (the semantics of the edits of one TextDocumentEdit),
// positions in UTF-16 code units.
//
// The edits are small so that an editor keeps its cursor, folds, marks and
// undo history: a line diff (Myers) finds the changed hunks, then each hunk is
// narrowed to the characters that really differ, without splitting a UTF-8
// sequence, a surrogate pair or a CRLF. Only when every line changed is the
// result one whole-text edit.
func Diff(old, new string) []protocol.TextEdit {
	if old == new {
		return nil
	}
	pre, aStarts, bStarts, hunks := lineHunks(old, new)

	edits := make([]protocol.TextEdit, 0, len(hunks))
	cur := cursor{text: old}
	for _, h := range hunks {
		oS, oE := pre+aStarts[h.a0], pre+aStarts[h.a1]
		nS, nE := pre+bStarts[h.b0], pre+bStarts[h.b1]
		p, s := narrow(old[oS:oE], new[nS:nE])
		start := cur.position(oS + p)
		end := cur.position(oE - s)
		edits = append(edits, protocol.TextEdit{
			Range:   protocol.Range{Start: start, End: end},
			NewText: new[nS+p : nE-s],
		})
	}
	return edits
}

// lineHunks is the line diff of old and new: the common head cut off at a
// line boundary (pre bytes), the line starts of the rest of each (relative
// to pre) and the changed hunks between them. The common head and tail are
// cut first, by memory comparison instead of per-line hashing: for the
// usual agent edit (a few lines of a long file) that is all the work there
// is.
func lineHunks(old, new string) (pre int, aStarts, bStarts []int, hunks []hunk) {
	pre = commonPrefix(old, new)
	for pre > 0 && !(isLineStart(old, pre) && isLineStart(new, pre)) {
		pre--
	}
	suf := commonSuffix(old[pre:], new[pre:])
	for suf > 0 && !(isLineStart(old, len(old)-suf) && isLineStart(new, len(new)-suf)) {
		suf--
	}
	aLines, aStarts := splitLines(old[pre : len(old)-suf])
	bLines, bStarts := splitLines(new[pre : len(new)-suf])
	in := make(interner, len(aLines)+len(bLines))
	return pre, aStarts, bStarts, diffIDs(in.ids(aLines), in.ids(bLines))
}

// narrow returns how many bytes at the head (p) and tail (s) of a hunk are
// common to its old and new text and can be left out of the edit. Both cuts
// land on boundaries of both texts (isBoundary); o and n start and end at line
// boundaries, which are boundaries too.
func narrow(o, n string) (p, s int) {
	p = commonPrefix(o, n)
	for p > 0 && !(isBoundary(o, p) && isBoundary(n, p)) {
		p--
	}
	s = commonSuffix(o[p:], n[p:])
	for s > 0 && !(isBoundary(o, len(o)-s) && isBoundary(n, len(n)-s)) {
		s--
	}
	return p, s
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	// Compare 64-byte blocks first: string equality uses the runtime's
	// vectorised memequal, far faster than a byte loop on long equal heads.
	i := 0
	for i+64 <= n && a[i:i+64] == b[i:i+64] {
		i += 64
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// commonSuffix is the length of the longest common suffix of a and b.
func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i+64 <= n && a[len(a)-i-64:len(a)-i] == b[len(b)-i-64:len(b)-i] {
		i += 64
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}
