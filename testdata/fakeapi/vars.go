package fakeapi

import (
	"regexp"
	"strings"
)

// PlanFileVar in a script string (a text block, a tool input's strings) is
// replaced, when a turn is answered, by the plan file the request names.
// claude 2.1.332 in plan mode tells the model where to write its plan in a
// system reminder ("create your plan at /home/me/.claude/plans/<slug>.md";
// the slug is made up per session), reads the plan back from that file when
// the model calls ExitPlanMode (whose input then carries no plan), so a
// scripted plan is a Write to {{planFile}} followed by ExitPlanMode.
const PlanFileVar = "{{planFile}}"

// planFileRe finds the plan file in a request body: the first path under a
// .claude/plans folder ending in .md.
var planFileRe = regexp.MustCompile(`/[^"\s\\]*?/\.claude/plans/[^"\s\\/]+\.md`)

// withRequestValues returns the turn with PlanFileVar replaced by the plan
// file the request body names ("" when it names none); t itself is not
// changed.
func (t Turn) withRequestValues(body []byte) Turn {
	if !t.uses(PlanFileVar) {
		return t
	}
	plan := string(planFileRe.Find(body))
	out := t
	out.Blocks = make([]Block, len(t.Blocks))
	for i, b := range t.Blocks {
		b.Text = strings.ReplaceAll(b.Text, PlanFileVar, plan)
		if b.Input != nil {
			b.Input = replaceIn(b.Input, PlanFileVar, plan).(map[string]any)
		}
		out.Blocks[i] = b
	}
	return out
}

// uses reports whether a string of the turn holds v.
func (t Turn) uses(v string) bool {
	for _, b := range t.Blocks {
		if strings.Contains(b.Text, v) || (b.Input != nil && holds(b.Input, v)) {
			return true
		}
	}
	return false
}

func holds(x any, v string) bool {
	switch x := x.(type) {
	case string:
		return strings.Contains(x, v)
	case []any:
		for _, e := range x {
			if holds(e, v) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holds(e, v) {
				return true
			}
		}
	}
	return false
}

// replaceIn copies x with old replaced by new in every string.
func replaceIn(x any, old, new string) any {
	switch x := x.(type) {
	case string:
		return strings.ReplaceAll(x, old, new)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceIn(e, old, new)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = replaceIn(e, old, new)
		}
		return out
	}
	return x
}
