package textedit

import "math"

// hunk is one changed region of a line diff: lines [a0,a1) of the old
// sequence were replaced by lines [b0,b1) of the new one.
type hunk struct {
	a0, a1, b0, b1 int
}

// splitLines cuts s into lines, each keeping its line break, so joining them
// gives s back. starts[i] is the offset of line i and starts[len(lines)] is
// len(s). An empty s has no lines.
func splitLines(s string) (lines []string, starts []int) {
	n := countBreaks(s) + 1
	lines = make([]string, 0, n)
	starts = make([]int, 0, n+1)
	for off := 0; off < len(s); {
		_, next := nextBreak(s, off)
		lines = append(lines, s[off:next])
		starts = append(starts, off)
		off = next
	}
	starts = append(starts, len(s))
	return lines, starts
}

// interner gives equal lines equal small integers, so the diff compares
// integers instead of strings. One interner serves every text of a merge so
// that their ids are comparable.
type interner map[string]int32

func (in interner) ids(lines []string) []int32 {
	out := make([]int32, len(lines))
	for i, l := range lines {
		id, ok := in[l]
		if !ok {
			id = int32(len(in))
			in[l] = id
		}
		out[i] = id
	}
	return out
}

// diffIDs is Myers' O(ND) difference algorithm in its linear-space form
// (divide and conquer on the "middle snake"), following GNU diff's diffseq.h.
// It returns the changed regions in order.
//
// When a subproblem costs more than tooExpensive rounds it settles for the
// furthest-reaching diagonal instead of the exact middle snake, as GNU diff
// does: the edits stay correct but may be longer than minimal. That bounds the
// time on two unrelated large texts, which otherwise is quadratic.
func diffIDs(a, b []int32) []hunk {
	m := myers{
		a:        a,
		b:        b,
		changedA: make([]bool, len(a)),
		changedB: make([]bool, len(b)),
		fd:       make([]int, len(a)+len(b)+3),
		bd:       make([]int, len(a)+len(b)+3),
		off:      len(b) + 1,
	}
	// Roughly the square root of the input size, but at least 256: plenty for
	// the few hundred changed lines of an agent's edit, small enough that a
	// rewrite of a 50,000-line file stays well under a second.
	m.tooExpensive = 1
	for n := len(a) + len(b); n != 0; n >>= 2 {
		m.tooExpensive <<= 1
	}
	m.tooExpensive = max(m.tooExpensive, 256)
	m.compare(0, len(a), 0, len(b))

	var hunks []hunk
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if i < len(a) && j < len(b) && !m.changedA[i] && !m.changedB[j] {
			i++
			j++
			continue
		}
		h := hunk{a0: i, b0: j}
		for i < len(a) && m.changedA[i] {
			i++
		}
		for j < len(b) && m.changedB[j] {
			j++
		}
		h.a1, h.b1 = i, j
		hunks = append(hunks, h)
	}
	return hunks
}

type myers struct {
	a, b               []int32
	changedA, changedB []bool
	// fd and bd hold, per diagonal k = x - y (index k+off), the furthest x
	// reached by the forward and backward searches. They are reused by every
	// subproblem: a subproblem finishes with them before recursing.
	fd, bd       []int
	off          int
	tooExpensive int
}

// compare marks the changed lines between a[xoff:xlim] and b[yoff:ylim].
func (m *myers) compare(xoff, xlim, yoff, ylim int) {
	for xoff < xlim && yoff < ylim && m.a[xoff] == m.b[yoff] {
		xoff++
		yoff++
	}
	for xlim > xoff && ylim > yoff && m.a[xlim-1] == m.b[ylim-1] {
		xlim--
		ylim--
	}
	switch {
	case xoff == xlim:
		for y := yoff; y < ylim; y++ {
			m.changedB[y] = true
		}
	case yoff == ylim:
		for x := xoff; x < xlim; x++ {
			m.changedA[x] = true
		}
	default:
		xmid, ymid := m.split(xoff, xlim, yoff, ylim)
		m.compare(xoff, xmid, yoff, ymid)
		m.compare(xmid, xlim, ymid, ylim)
	}
}

// split finds the point where a shortest edit script crosses the middle (the
// middle snake), searching forward from the start and backward from the end
// at the same time. Both ends of the region differ (compare trimmed them), so
// the point returned always makes progress.
func (m *myers) split(xoff, xlim, yoff, ylim int) (int, int) {
	a, b, fd, bd, o := m.a, m.b, m.fd, m.bd, m.off
	dmin, dmax := xoff-ylim, xlim-yoff
	fmid, bmid := xoff-yoff, xlim-ylim
	fmin, fmax := fmid, fmid
	bmin, bmax := bmid, bmid
	odd := (fmid-bmid)&1 != 0
	fd[o+fmid] = xoff
	bd[o+bmid] = xlim
	for c := 1; ; c++ {
		// One more round forward: widen the diagonals, with sentinels outside.
		if fmin > dmin {
			fmin--
			fd[o+fmin-1] = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			fd[o+fmax+1] = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			tlo, thi := fd[o+d-1], fd[o+d+1]
			x := thi
			if tlo >= thi {
				x = tlo + 1
			}
			y := x - d
			for x < xlim && y < ylim && a[x] == b[y] {
				x++
				y++
			}
			fd[o+d] = x
			if odd && bmin <= d && d <= bmax && bd[o+d] <= x {
				return x, y
			}
		}
		// One more round backward.
		if bmin > dmin {
			bmin--
			bd[o+bmin-1] = math.MaxInt
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			bd[o+bmax+1] = math.MaxInt
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			tlo, thi := bd[o+d-1], bd[o+d+1]
			x := thi - 1
			if tlo < thi {
				x = tlo
			}
			y := x - d
			for x > xoff && y > yoff && a[x-1] == b[y-1] {
				x--
				y--
			}
			bd[o+d] = x
			if !odd && fmin <= d && d <= fmax && x <= fd[o+d] {
				return x, y
			}
		}
		if c >= m.tooExpensive {
			return m.bestSplit(xoff, xlim, yoff, ylim, fmin, fmax, bmin, bmax)
		}
	}
}

// bestSplit gives up on the exact middle snake and returns whichever of the
// forward and backward frontiers got furthest from its own corner.
func (m *myers) bestSplit(xoff, xlim, yoff, ylim, fmin, fmax, bmin, bmax int) (int, int) {
	fd, bd, o := m.fd, m.bd, m.off
	fxybest, fxbest := -1, 0
	for d := fmax; d >= fmin; d -= 2 {
		x := min(fd[o+d], xlim)
		y := x - d
		if ylim < y {
			x, y = ylim+d, ylim
		}
		if fxybest < x+y {
			fxybest, fxbest = x+y, x
		}
	}
	bxybest, bxbest := math.MaxInt, 0
	for d := bmax; d >= bmin; d -= 2 {
		x := max(xoff, bd[o+d])
		y := x - d
		if y < yoff {
			x, y = yoff+d, yoff
		}
		if x+y < bxybest {
			bxybest, bxbest = x+y, x
		}
	}
	if (xlim+ylim)-bxybest < fxybest-(xoff+yoff) {
		return fxbest, fxybest - fxbest
	}
	return bxbest, bxybest - bxbest
}
