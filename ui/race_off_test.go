//go:build !race

package ui

// raceEnabled reports whether the race detector is on; timing runs skip then.
const raceEnabled = false
