//go:build linux

package markdown

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuClock reads one of the kernel's CPU clocks (CLOCK_THREAD_CPUTIME_ID,
// CLOCK_PROCESS_CPUTIME_ID).
func cpuClock(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// threadCPU returns the CPU time of the calling thread: with the goroutine
// locked to its thread, the CPU time a piece of work took, whatever else
// the machine runs.
func threadCPU() time.Duration { return cpuClock(unix.CLOCK_THREAD_CPUTIME_ID) }

// processCPU returns the CPU time of the whole process.
func processCPU() time.Duration { return cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID) }
