package textedit

import (
	"fmt"
	"strings"
)

// LineRange is a half-open range of 0-based line numbers [Start, End). An
// empty range (Start == End) is the point before line Start: where lines were
// inserted, or where deleted lines used to be.
type LineRange struct {
	Start, End int
}

// String renders the range 1-based for people: "line 4", "lines 4-7", or
// "before line 4" for an empty range.
func (r LineRange) String() string {
	switch {
	case r.End <= r.Start:
		return fmt.Sprintf("before line %d", r.Start+1)
	case r.End == r.Start+1:
		return fmt.Sprintf("line %d", r.Start+1)
	default:
		return fmt.Sprintf("lines %d-%d", r.Start+1, r.End)
	}
}

// Conflict is a region that both sides of a merge changed differently: the
// lines of base, and what ours and theirs made of them.
type Conflict struct {
	Base, Ours, Theirs LineRange
	// OursChanged and TheirsChanged are the lines each side itself changed
	// within the region (in its own numbering; empty: it only deleted
	// there, or inserted): the rest of its range is lines the other side
	// changed next to them, which it left as they were.
	OursChanged, TheirsChanged LineRange
}

// Merge3 merges the changes that ours and theirs each made to base, line by
// line, in the manner of diff3:
//
//   - a change made by one side only is taken;
//   - the same change made by both sides is taken once;
//   - changes of the two sides that overlap, or merely touch, are a conflict
//     unless they are identical.
//
// "Touch" is the conservative part: two changes conflict unless at least one
// unchanged line of base separates them. So the user editing line 10 and the
// agent editing line 11 is a conflict, and so are two insertions at the same
// point. Adjacent lines are usually one piece of logic (a signature and its
// first statement, an import list), whose combination nobody wrote and whose
// order, for two insertions, nobody can know; git's merge draws the same
// line. A false conflict costs the user one look at a file; a wrong merge can
// silently corrupt unsaved work.
//
// When conflicts is empty, merged holds both sides' changes. When it is not,
// merged is base with the non-conflicting changes and ours in each conflict,
// and the caller should not use it.
func Merge3(base, ours, theirs string) (merged string, conflicts []Conflict) {
	switch {
	case ours == theirs, base == theirs:
		return ours, nil
	case base == ours:
		return theirs, nil
	}
	// Lines that all three share at the head and tail cannot take part in a
	// conflict: cut them off by memory comparison before splitting and
	// hashing lines, which is most of the cost on long files.
	pre := min(commonPrefix(base, ours), commonPrefix(base, theirs))
	for pre > 0 && !(isLineStart(base, pre) && isLineStart(ours, pre) && isLineStart(theirs, pre)) {
		pre--
	}
	suf := min(commonSuffix(base[pre:], ours[pre:]), commonSuffix(base[pre:], theirs[pre:]))
	for suf > 0 && !(isLineStart(base, len(base)-suf) && isLineStart(ours, len(ours)-suf) &&
		isLineStart(theirs, len(theirs)-suf)) {
		suf--
	}
	merged, conflicts = merge3Lines(base[pre:len(base)-suf], ours[pre:len(ours)-suf], theirs[pre:len(theirs)-suf])
	if len(conflicts) > 0 {
		shift := countBreaks(base[:pre])
		for k := range conflicts {
			c := &conflicts[k]
			for _, r := range []*LineRange{&c.Base, &c.Ours, &c.Theirs, &c.OursChanged, &c.TheirsChanged} {
				r.Start += shift
				r.End += shift
			}
		}
	}
	return base[:pre] + merged + base[len(base)-suf:], conflicts
}

// merge3Lines is Merge3 on texts that start and end on line boundaries.
func merge3Lines(base, ours, theirs string) (merged string, conflicts []Conflict) {
	bLines, _ := splitLines(base)
	oLines, _ := splitLines(ours)
	tLines, _ := splitLines(theirs)
	in := make(interner, len(bLines)+len(oLines)/4+len(tLines)/4)
	bIDs, oIDs, tIDs := in.ids(bLines), in.ids(oLines), in.ids(tLines)
	oh, th := diffIDs(bIDs, oIDs), diffIDs(bIDs, tIDs)

	var out strings.Builder
	out.Grow(max(len(ours), len(theirs)))
	write := func(lines []string) {
		for _, l := range lines {
			out.WriteString(l)
		}
	}
	pos := 0               // next base line to copy
	oDelta, tDelta := 0, 0 // line count change made by each side's hunks so far
	i, j := 0, 0
	for i < len(oh) || j < len(th) {
		// A group starts at the earliest remaining hunk of either side and
		// takes in every hunk of either side that overlaps or touches it.
		var lo, hi int
		if j >= len(th) || (i < len(oh) && oh[i].a0 <= th[j].a0) {
			lo, hi = oh[i].a0, oh[i].a1
		} else {
			lo, hi = th[j].a0, th[j].a1
		}
		oStart, tStart := i, j
		oLo, tLo := lo+oDelta, lo+tDelta
		for {
			if i < len(oh) && oh[i].a0 <= hi {
				hi = max(hi, oh[i].a1)
				oDelta += (oh[i].b1 - oh[i].b0) - (oh[i].a1 - oh[i].a0)
				i++
				continue
			}
			if j < len(th) && th[j].a0 <= hi {
				hi = max(hi, th[j].a1)
				tDelta += (th[j].b1 - th[j].b0) - (th[j].a1 - th[j].a0)
				j++
				continue
			}
			break
		}
		oHi, tHi := hi+oDelta, hi+tDelta

		write(bLines[pos:lo])
		switch {
		case j == tStart: // only ours changed this region
			write(oLines[oLo:oHi])
		case i == oStart: // only theirs
			write(tLines[tLo:tHi])
		case equalIDs(oIDs[oLo:oHi], tIDs[tLo:tHi]): // both, the same way
			write(oLines[oLo:oHi])
		default:
			conflicts = append(conflicts, Conflict{
				Base:          LineRange{lo, hi},
				Ours:          LineRange{oLo, oHi},
				Theirs:        LineRange{tLo, tHi},
				OursChanged:   LineRange{oh[oStart].b0, oh[i-1].b1},
				TheirsChanged: LineRange{th[tStart].b0, th[j-1].b1},
			})
			write(oLines[oLo:oHi])
		}
		pos = hi
	}
	write(bLines[pos:])
	return out.String(), conflicts
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
