//go:build !linux

package markdown

import "time"

var clockStart = time.Now()

// threadCPU falls back to the wall clock where no thread CPU clock is read.
func threadCPU() time.Duration { return time.Since(clockStart) }

// processCPU falls back to the wall clock too.
func processCPU() time.Duration { return time.Since(clockStart) }
