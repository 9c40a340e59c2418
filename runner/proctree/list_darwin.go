package proctree

import (
	"bytes"
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// list reads the kernel's process table (sysctl kern.proc.all) and each
// process's arguments and environment (kern.procargs2, readable for the
// user's own processes).
func list() ([]Proc, error) {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, err
	}
	out := make([]Proc, 0, len(kps))
	for _, kp := range kps {
		p := Proc{
			PID:    int(kp.Proc.P_pid),
			PPID:   int(kp.Eproc.Ppid),
			PGID:   int(kp.Eproc.Pgid),
			Zombie: kp.Proc.P_stat == 5, // SZOMB
			Start:  uint64(kp.Proc.P_starttime.Sec)*1e6 + uint64(kp.Proc.P_starttime.Usec),
		}
		if p.PID > 0 && !p.Zombie {
			p.Tag, p.Env = readTag(p.PID)
		}
		out = append(out, p)
	}
	return out, nil
}

// statOf is the process table's entry for pid, without its tag.
func statOf(pid int) (Proc, bool) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(kp.Proc.P_pid) != pid {
		return Proc{}, false
	}
	return Proc{PID: pid, PPID: int(kp.Eproc.Ppid), PGID: int(kp.Eproc.Pgid), Zombie: kp.Proc.P_stat == 5,
		Start: uint64(kp.Proc.P_starttime.Sec)*1e6 + uint64(kp.Proc.P_starttime.Usec)}, true
}

// now is the current time in the unit of Proc.Start (microseconds).
func now() uint64 { return uint64(time.Now().UnixMicro()) }

// uidOf is the user owning the process (-1 if gone).
func uidOf(pid int) int {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return -1
	}
	return int(kp.Eproc.Ucred.Uid)
}

var tagKey = []byte(EnvVar + "=")

// readTag parses kern.procargs2: argc, the executable path, NUL padding,
// argc arguments, then the environment, all NUL-terminated.
func readTag(pid int) (string, EnvState) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil || len(b) < 4 {
		return "", EnvUnreadable
	}
	return tagInProcargs(b), EnvRead
}

func tagInProcargs(b []byte) string {
	argc := int(binary.LittleEndian.Uint32(b[:4]))
	b = b[4:]
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return ""
	}
	b = b[i:]
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	for ; argc > 0 && len(b) > 0; argc-- {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return ""
		}
		b = b[i+1:]
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i <= 0 {
			return ""
		}
		if bytes.HasPrefix(b[:i], tagKey) {
			return string(b[len(tagKey):i])
		}
		b = b[i+1:]
	}
	return ""
}
