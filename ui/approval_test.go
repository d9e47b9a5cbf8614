package ui

import "testing"

func TestJoinWrappedBreaksBetweenParts(t *testing.T) {
	got := joinWrapped([]string{"y allow once", "s allow this session", "esc cancel"}, " · ", 36)
	want := "y allow once · s allow this session\nesc cancel"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := joinWrapped([]string{"a", "b"}, " · ", 80); got != "a · b" {
		t.Fatalf("one line: got %q", got)
	}
}
