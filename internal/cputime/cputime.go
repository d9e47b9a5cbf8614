// Package cputime reads CPU clocks for benchmarks. On a machine shared
// with other work, wall time grows with the queue for the processor; CPU
// time measures the work itself.
package cputime

import (
	"testing"
	"time"
)

// Report reports, as "cpu-ms/op", the process CPU time spent since start
// (a Process reading) divided by b.N.
func Report(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(Process()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
