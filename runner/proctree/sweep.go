package proctree

import (
	"os"
	"syscall"
	"time"
)

// Bounds of one sweep: rounds that kill something go on (a process may
// fork while a round runs) up to maxRounds and killWait; rounds that only
// wait for an uncertain process (its environment read empty or not at
// all) to show what it is stop after uncertainWait.
const (
	maxRounds     = 20
	killWait      = 2 * time.Second
	uncertainWait = 250 * time.Millisecond
)

// sweepSpec says what one sweep kills.
type sweepSpec struct {
	match func(tag string) bool // the tags swept
	keep  int                   // this process's tree is spared (0: none)
	tag   Tag                   // the tracked tag swept ("" for a scope: the watchdog)
	// orphans: every adopted orphan goes (the bridge exits).
	orphans bool
	// since: a process started before this can be no uncertain member.
	since uint64
}

// sweep kills, in rounds, every process that belongs with the swept tags:
//   - a live process carrying one of them;
//   - a member of a process group or session led by such a process (seen in
//     this sweep or an earlier one: the leader may be gone, or in the
//     middle of an exec, or have an environment the bridge cannot read);
//   - an orphan the bridge adopted (it is a child subreaper) that belongs
//     to the tag (see belongs);
//   - everything below any of these (by parent), whatever its environment;
//
// except the caller, keep's tree and a process carrying another tag. A
// round that finds a process of the bridge's user, started since
// spec.since, whose environment read empty (an exec in progress) or not
// at all, is followed by another (bounded): the next may see its tag. The
// killed processes and every adopted zombie are reaped.
func sweep(sp sweepSpec) (int, error) {
	self := os.Getpid()
	me, _ := statOf(self)
	uid := os.Getuid()
	killed := map[int]bool{}
	var victims []Proc
	start := time.Now()
	for round := 0; ; round++ {
		all, err := list()
		if err != nil {
			return len(killed), err
		}
		members, uncertain := sp.members(all, me, uid)
		sent := 0
		for _, p := range members {
			if syscall.Kill(p.PID, syscall.SIGKILL) == nil {
				sent++
				if !killed[p.PID] {
					killed[p.PID] = true
					victims = append(victims, p)
				}
			}
		}
		elapsed := time.Since(start)
		if round+1 >= maxRounds || elapsed > killWait || (sent == 0 && (uncertain == 0 || elapsed > uncertainWait)) {
			break
		}
		time.Sleep(time.Duration(round+1) * 5 * time.Millisecond) // let the killed die, an exec finish
	}
	reap(victims)
	reapOrphans()
	return len(killed), nil
}

// members lists the live processes the sweep kills, and counts the
// uncertain ones (see sweep).
func (sp sweepSpec) members(all []Proc, me Proc, uid int) (members []Proc, uncertain int) {
	children := map[int][]int{}
	byPID := make(map[int]Proc, len(all))
	for _, p := range all {
		byPID[p.PID] = p
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	kept := map[int]bool{}
	if sp.keep > 0 {
		kept = descendants(children, sp.keep)
	}
	foreign := func(p Proc) bool { return p.Env == EnvRead && p.Tag != "" && !sp.match(p.Tag) }
	groups := reg.groups(sp.tag)
	var led []int
	in := map[int]bool{}
	var stack []int
	add := func(p Proc) {
		if !in[p.PID] {
			in[p.PID] = true
			stack = append(stack, p.PID)
		}
	}
	for _, p := range all {
		if p.Zombie || p.Tag == "" || !sp.match(p.Tag) {
			continue
		}
		add(p)
		for _, id := range []int{p.PGID, p.SID} {
			if id == p.PID && !groups[id] {
				groups[id] = true
				led = append(led, id)
			}
		}
	}
	reg.noteGroups(sp.tag, led)
	for _, p := range all {
		if in[p.PID] || p.Zombie || foreign(p) || p.PID == me.PID {
			continue
		}
		if groups[p.PGID] || (p.SID != 0 && groups[p.SID]) || (adopted(p, me) && sp.belongs(p)) {
			add(p)
		}
	}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[pid] {
			if p := byPID[c]; !p.Zombie && !foreign(p) {
				add(p)
			}
		}
	}
	for _, p := range all {
		switch {
		case p.PID == me.PID || kept[p.PID] || p.Zombie:
		case in[p.PID]:
			members = append(members, p)
		case (p.Env == EnvEmpty || p.Env == EnvUnreadable) && p.Start >= sp.since && uidOf(p.PID) == uid:
			uncertain++
		}
	}
	return members, uncertain
}

// belongs reports whether an orphan the bridge adopted goes with this
// sweep: every one when the bridge exits; otherwise one the swept tag's
// claude can have left and no other claude's turn in flight (see
// registry.owns). Its process group or session, when a tagged process led
// it, has placed it already (members).
func (sp sweepSpec) belongs(p Proc) bool {
	switch {
	case sp.orphans:
		return true
	case sp.tag == "":
		return false
	}
	return reg.owns(sp.tag, p.Start)
}

// adopted reports whether p, a process whose parent is the bridge, is an
// orphan the bridge adopted as a child subreaper rather than a child it
// started itself. What the bridge starts (claude, the key helper, the
// watchdog, npm) is in its session and either leads a process group of
// its own (Setpgid) or is in the bridge's: an orphan is in a session of
// its own (a Bash command's), or in the process group of the process that
// started it (claude's). A process started through Start is never one.
func adopted(p, me Proc) bool {
	if p.PPID != me.PID || isSpawned(p.PID) {
		return false
	}
	return p.SID != me.SID || (p.PGID != p.PID && p.PGID != me.PGID)
}

// descendants is root and every process below it.
func descendants(children map[int][]int, root int) map[int]bool {
	out := map[int]bool{root: true}
	stack := []int{root}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[pid] {
			if !out[c] {
				out[c] = true
				stack = append(stack, c)
			}
		}
	}
	return out
}

// selfStart is when this process started (Proc.Start's unit).
func selfStart() uint64 {
	p, _ := statOf(os.Getpid())
	return p.Start
}
