package proctree

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// list reads /proc: stat for the relations, environ for the tag.
func list() ([]Proc, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	out := make([]Proc, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		p, ok := readStat(pid)
		if !ok || p.kernel {
			continue
		}
		if !p.Zombie {
			p.Tag, p.Env = readTag(pid)
		}
		out = append(out, p)
	}
	return out, nil
}

// pfKthread is PF_KTHREAD among the flags of /proc/PID/stat.
const pfKthread = 0x00200000

// readStat parses /proc/PID/stat; false if the process is gone.
func readStat(pid int) (Proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, false
	}
	// The command name sits in parentheses and may hold anything: the
	// fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return Proc{}, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 20 {
		return Proc{}, false
	}
	num := func(k int) int { n, _ := strconv.Atoi(string(f[k])); return n }
	start, _ := strconv.ParseUint(string(f[19]), 10, 64)
	flags, _ := strconv.ParseUint(string(f[6]), 10, 64)
	return Proc{PID: pid, Zombie: f[0][0] == 'Z' || f[0][0] == 'X', PPID: num(1), PGID: num(2), SID: num(3), Start: start,
		kernel: flags&pfKthread != 0}, true
}

// statOf is the process table's entry for pid, without its tag.
func statOf(pid int) (Proc, bool) { return readStat(pid) }

// now is the current time in the unit of Proc.Start: clock ticks since
// boot (USER_HZ, 100 a second on every Linux the bridge runs on).
func now() uint64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	up, _ := strconv.ParseFloat(string(f[0]), 64)
	return uint64(up * 100)
}

// uidOf is the user owning the process (-1 if gone).
func uidOf(pid int) int {
	fi, err := os.Stat("/proc/" + strconv.Itoa(pid))
	if err != nil {
		return -1
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

var tagKey = []byte(EnvVar + "=")

// readTag returns the tag in /proc/PID/environ (the environment the
// process was started with), "" if none, and whether the environment could
// be read: it reads empty while the process is in the middle of an exec,
// and not at all for another user's process or a non-dumpable one
// (ssh-agent, gpg-agent) unless the bridge runs as root.
func readTag(pid int) (string, EnvState) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	switch {
	case err != nil:
		return "", EnvUnreadable
	case len(b) == 0:
		return "", EnvEmpty
	}
	return tagIn(b), EnvRead
}

// tagIn finds EnvVar's value in a NUL-separated environment block.
func tagIn(env []byte) string {
	for len(env) > 0 {
		entry := env
		if i := bytes.IndexByte(env, 0); i >= 0 {
			entry, env = env[:i], env[i+1:]
		} else {
			env = nil
		}
		if bytes.HasPrefix(entry, tagKey) {
			return string(entry[len(tagKey):])
		}
	}
	return ""
}
