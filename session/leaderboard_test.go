package session

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestExpected(t *testing.T) {
	if !near(Expected(1000, 1000), 0.5) {
		t.Fatal("equal ratings are even odds")
	}
	// 400 points apart: ten to one.
	if !near(Expected(1400, 1000), 10.0/11) || !near(Expected(1000, 1400), 1.0/11) {
		t.Fatalf("400 points: %v %v", Expected(1400, 1000), Expected(1000, 1400))
	}
}

func TestLeaderboardTwoColumns(t *testing.T) {
	picks := []Pick{
		{Blind: true, Models: []string{"a", "b"}, Winner: 0},
		{Blind: true, Models: []string{"b", "a"}, Winner: 1},
	}
	got := Leaderboard(picks, false)
	if len(got) != 2 || got[0].Model != "a" || got[0].Wins != 2 || got[1].Losses != 2 {
		t.Fatalf("standings: %+v", got)
	}
	// First game: even odds, a gains K/2 = 16. Second: a at 1016 is
	// expected to win with E = 1/(1+10^(-32/400)); it gains K(1-E).
	e := Expected(1016, 984)
	want := 1016 + EloK*(1-e)
	if !near(got[0].Rating, want) || !near(got[1].Rating, 2*InitialRating-want) {
		t.Fatalf("ratings %v %v, want %v and its mirror", got[0].Rating, got[1].Rating, want)
	}
}

func TestLeaderboardTiesAndSeveralColumns(t *testing.T) {
	got := Leaderboard([]Pick{{Blind: true, Models: []string{"a", "b", "c"}, Winner: Tie}}, false)
	for _, s := range got {
		if s.Ties != 1 || s.Wins+s.Losses != 0 || !near(s.Rating, InitialRating) {
			t.Fatalf("a tie between equals changes no rating: %+v", got)
		}
	}
	got = Leaderboard([]Pick{{Blind: true, Models: []string{"a", "b", "c"}, Winner: 2}}, false)
	if got[0].Model != "c" || got[0].Wins != 1 || got[1].Losses != 1 || got[2].Losses != 1 {
		t.Fatalf("standings: %+v", got)
	}
	// Two pairs at K/2 each, even odds: the winner gains K/2, each
	// loser loses K/4; the sum of ratings is kept.
	if !near(got[0].Rating, InitialRating+EloK/2) || !near(got[1].Rating, InitialRating-EloK/4) {
		t.Fatalf("ratings: %+v", got)
	}
	sum := 0.0
	for _, s := range got {
		sum += s.Rating
	}
	if !near(sum, 3*InitialRating) {
		t.Fatalf("ratings sum to %v", sum)
	}
}

func TestLeaderboardSkipsOpenAndBadPicks(t *testing.T) {
	picks := []Pick{
		{Blind: false, Models: []string{"a", "b"}, Winner: 0},
		{Blind: true, Models: []string{"a"}, Winner: 0},
		{Blind: true, Models: []string{"a", "b"}, Winner: 2},
	}
	if got := Leaderboard(picks, false); len(got) != 0 {
		t.Fatalf("standings from picks that do not count: %+v", got)
	}
	if got := Leaderboard(picks, true); len(got) != 2 || got[0].Wins != 1 {
		t.Fatalf("with open picks: %+v", got)
	}
}

func TestLeaderboardSameModelTwice(t *testing.T) {
	got := Leaderboard([]Pick{{Blind: true, Models: []string{"a", "a", "b"}, Winner: 0}}, false)
	// Each column counts: the first a won, the second lost; the two
	// do not play each other. Two columns that lost draw each other.
	if got[0].Model != "a" || got[0].Wins != 1 || got[0].Losses != 1 {
		t.Fatalf("standings: %+v", got)
	}
}
