package runner

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

// Writes never wait for the reader: they are queued, written in order,
// and a write the reader does not take within the timeout kills the
// reader (here: reports it) and fails every later write.
func TestInputNeverBlocksAndGivesUpOnAStuckReader(t *testing.T) {
	big := []byte(strings.Repeat("x", 1<<20)) // far past a pipe's buffer: nobody reads

	// Writes return though nobody reads for an hour (a write that waited
	// would hang the test), and the input is open but not drained.
	r0, w0, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	in0 := newInput(w0, time.Hour, func() { t.Error("stuck within an hour") })
	for i := 0; i < 3; i++ {
		if err := in0.write(big); err != nil {
			t.Fatal(err)
		}
	}
	if !in0.open() || in0.drained() {
		t.Errorf("with 3 MiB not taken: open %v (want true), drained %v (want false)", in0.open(), in0.drained())
	}
	r0.Close() // the writer's write fails: it ends
	<-in0.done
	if in0.open() {
		t.Error("open after its reader went away")
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stuck := make(chan struct{})
	in := newInput(w, 200*time.Millisecond, func() { close(stuck) })
	for i := 0; i < 3; i++ {
		if err := in.write(big); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-stuck:
	case <-time.After(10 * time.Second):
		t.Fatal("a write nobody read was never given up")
	}
	if why := in.killedFor(); why == nil || !strings.Contains(why.Error(), "read none of its input") {
		t.Errorf("killedFor = %v", why)
	}
	if err := in.write([]byte("later")); err == nil {
		t.Error("a write after the reader was given up on succeeded")
	}
	<-in.done

	// A reader that reads gets every line, in order, then EOF after close.
	r2, w2, _ := os.Pipe()
	in2 := newInput(w2, time.Second, func() { t.Error("stuck") })
	for _, l := range []string{"a", "b", "c"} {
		if err := in2.write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	in2.close()
	var got []string
	sc := bufio.NewScanner(r2)
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if strings.Join(got, "") != "abc" {
		t.Errorf("read %v", got)
	}
	if in2.open() || in2.drained() {
		t.Error("open or drained after close")
	}
}

// awaitDrained waits for the writer to mark what was queued written, at
// most its bound: false while nobody reads, true once the line is taken.
func TestAwaitDrainedWaitsForTheWriter(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := newInput(w, time.Hour, func() { t.Error("stuck") })
	if !in.awaitDrained(time.Hour) {
		t.Fatal("nothing queued, yet not drained")
	}
	big := []byte(strings.Repeat("x", 1<<20)) // past the pipe's buffer
	if err := in.write(big); err != nil {
		t.Fatal(err)
	}
	if in.awaitDrained(10 * time.Millisecond) {
		t.Fatal("drained with 1 MiB nobody read")
	}
	go func() { _, _ = bufio.NewReader(r).ReadString('\n') }() // ends once the line is read
	if !in.awaitDrained(time.Hour) {
		t.Fatal("not drained once the line was read")
	}
	in.close()
	<-in.done
}
