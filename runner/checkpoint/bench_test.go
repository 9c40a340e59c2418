package checkpoint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tenThousand writes a folder of 10,000 small files (100 folders of 100),
// with a .gitignore leaving out a build folder and a .env, as a project
// has.
func tenThousand(b *testing.B) string {
	ws := b.TempDir()
	for name, content := range map[string]string{".gitignore": "build/\n.env\n", ".env": "TOKEN=x\n", "build/out.o": "obj"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ws, name)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for d := 0; d < 100; d++ {
		dir := filepath.Join(ws, fmt.Sprintf("d%02d", d))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < 100; f++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.go", f)), []byte(fmt.Sprintf("package d%02d\n\nconst F%02d = %d\n", d, f, f)), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ws
}

// BenchmarkSnapshot10kFiles: a folder snapshot of 10,000 files, as taken
// before and after each Bash command of a task (review afterTurn): the
// first one of a folder (cold: every file hashed; it runs in the
// background as a task starts) and later ones with one file changed
// (warm). The limits a snapshot must stay under are WarmLimit and
// TakeLimit; ms/snapshot is the figure.
func BenchmarkSnapshot10kFiles(b *testing.B) {
	ws := tenThousand(b)
	b.Run("cold", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			snaps := NewSnapshots(filepath.Join(b.TempDir(), "snapshots"), "")
			b.StartTimer()
			if _, err := snaps.Take(context.Background(), ws); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/snapshot")
		b.ReportMetric(float64(WarmLimit/time.Millisecond), "limit-ms")
	})
	b.Run("warm", func(b *testing.B) {
		snaps := NewSnapshots(filepath.Join(b.TempDir(), "snapshots"), "")
		if _, err := snaps.Take(context.Background(), ws); err != nil {
			b.Fatal(err)
		}
		changed := filepath.Join(ws, "d50", "f50.go")
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			if err := os.WriteFile(changed, []byte(fmt.Sprintf("package d50\n\nconst F50 = %d\n", i)), 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := snaps.Take(context.Background(), ws); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/snapshot")
		b.ReportMetric(float64(TakeLimit/time.Millisecond), "limit-ms")
	})
}
