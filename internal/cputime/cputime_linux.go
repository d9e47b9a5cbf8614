//go:build linux

package cputime

import (
	"time"

	"golang.org/x/sys/unix"
)

func clock(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Thread is the CPU time of the calling thread: with the goroutine locked
// to its thread (runtime.LockOSThread), what a piece of work cost,
// whatever else the machine runs.
func Thread() time.Duration { return clock(unix.CLOCK_THREAD_CPUTIME_ID) }

// Process is the CPU time of the whole process, every thread included.
func Process() time.Duration { return clock(unix.CLOCK_PROCESS_CPUTIME_ID) }
