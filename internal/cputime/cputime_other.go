//go:build !linux

package cputime

import "time"

var start = time.Now()

// Thread falls back to the wall clock where no CPU clock is read.
func Thread() time.Duration { return time.Since(start) }

// Process falls back to the wall clock too.
func Process() time.Duration { return time.Since(start) }
