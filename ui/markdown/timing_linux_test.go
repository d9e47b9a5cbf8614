//go:build linux

package markdown

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func cpuClock(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// TestViewLatency streams generated answers in 4-byte deltas at full speed,
// with a View per frame of 256 B or 1 KB of text, and logs the slowest single
// View (wall clock and CPU time of the calling thread) and the CPU cost of
// the whole stream relative to one Render of the final document (process CPU
// time, so other load on the machine does not skew the ratio). It asserts no
// wall-clock limit — CI machines vary — the figures go into the notes:
//
//	go test -run TestViewLatency -v ./ui/markdown
func TestViewLatency(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing run skipped in -short mode and under the race detector")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := testRenderer(t, 100, "dark")
	for _, size := range []int{64 << 10, 256 << 10} {
		doc := genDoc(size, 1)
		var want string
		fullCPU := time.Duration(1 << 62)
		for range 3 {
			runtime.GC()
			c := cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID)
			want, _ = r.Render(doc, 1)
			fullCPU = min(fullCPU, cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID)-c)
		}
		for _, frame := range []int{256, 1 << 10} {
			streamCPU := time.Duration(1 << 62)
			var walls, cpus []time.Duration
			for range 3 {
				runtime.GC()
				walls, cpus = walls[:0], cpus[:0]
				c0 := cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID)
				s := NewStream(r, 1)
				next := frame
				for i := 0; i < len(doc); i += 4 {
					s.Append(doc[i:min(i+4, len(doc))])
					if i+4 >= next {
						w, c := time.Now(), cpuClock(unix.CLOCK_THREAD_CPUTIME_ID)
						s.View()
						cpus = append(cpus, cpuClock(unix.CLOCK_THREAD_CPUTIME_ID)-c)
						walls = append(walls, time.Since(w))
						next += frame
					}
				}
				if s.Finish() != want {
					t.Fatal("Finish differs from Render")
				}
				streamCPU = min(streamCPU, cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID)-c0)
			}
			slices.Sort(walls)
			slices.Sort(cpus)
			t.Logf("%3d KB, View every %4d B: %4d views; slowest View %v wall / %v CPU (p99 %v CPU, median %v CPU); stream %v CPU vs Render %v CPU = %.2fx",
				len(doc)>>10, frame, len(cpus), walls[len(walls)-1].Round(time.Microsecond), cpus[len(cpus)-1].Round(time.Microsecond),
				cpus[len(cpus)*99/100].Round(time.Microsecond), cpus[len(cpus)/2].Round(time.Microsecond),
				streamCPU.Round(time.Millisecond), fullCPU.Round(time.Millisecond), float64(streamCPU)/float64(fullCPU))
		}
	}
}
