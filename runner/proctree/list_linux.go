package proctree

import (
	"bytes"
	"os"
	"strconv"
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
		if !ok {
			continue
		}
		if !p.Zombie {
			p.Tag = readTag(pid)
		}
		out = append(out, p)
	}
	return out, nil
}

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
	return Proc{PID: pid, Zombie: f[0][0] == 'Z' || f[0][0] == 'X', PPID: num(1), PGID: num(2), SID: num(3), Start: start}, true
}

var tagKey = []byte(EnvVar + "=")

// readTag returns the tag in /proc/PID/environ (the environment the
// process was started with), "" if none or unreadable.
func readTag(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return ""
	}
	return tagIn(b)
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
