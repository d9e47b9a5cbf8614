package session

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Pick is one verdict on a comparison: the columns' names in screen order
// and the column the user preferred (Winner, from 0), or a tie (Winner
// -1). Blind says the names were hidden when the user chose.
type Pick struct {
	At         time.Time
	Comparison string // the comparison's ID
	Blind      bool
	Models     []string
	Winner     int
}

// Tie is Pick.Winner for a tie.
const Tie = -1

// Standing is one model's line of the leaderboard.
type Standing struct {
	Model  string
	Wins   int
	Losses int
	Ties   int
	// Rating is an Elo rating: every model starts at InitialRating.
	Rating float64
}

// Games is how many comparisons the model took part in.
func (s Standing) Games() int { return s.Wins + s.Losses + s.Ties }

// Elo parameters: the starting rating and the K factor, the most one
// game moves a rating.
const (
	InitialRating = 1000.0
	EloK          = 32.0
)

// Expected is the Elo probability that a player rated ra beats one rated
// rb.
func Expected(ra, rb float64) float64 {
	return 1 / (1 + math.Pow(10, (rb-ra)/400))
}

// Leaderboard replays picks in order and returns every model's standing,
// best rating first (ties broken by name). A pick of n columns counts as
// a game between each pair of them: the winner beats each other column,
// and a tie draws every pair (as do two columns that both lost). A model has one win (or loss, or tie) per
// pick, however many columns it beat. Each pair's K is EloK/(n-1), so a
// pick moves a rating by at most EloK whatever the number of columns;
// all pairs of a pick are scored on the ratings from before it. A name in
// two columns of one pick counts in each, and does not play itself. Picks that are not blind
// count only when withOpen is set.
func Leaderboard(picks []Pick, withOpen bool) []Standing {
	by := map[string]*Standing{}
	get := func(name string) *Standing {
		s := by[name]
		if s == nil {
			s = &Standing{Model: name, Rating: InitialRating}
			by[name] = s
		}
		return s
	}
	for _, p := range picks {
		n := len(p.Models)
		if n < 2 || p.Winner < Tie || p.Winner >= n || (!p.Blind && !withOpen) {
			continue
		}
		before := make([]float64, n)
		for i, m := range p.Models {
			before[i] = get(m).Rating
		}
		k := EloK / float64(n-1)
		delta := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if p.Models[i] == p.Models[j] {
					continue
				}
				score := 0.5 // a tie
				switch p.Winner {
				case i:
					score = 1
				case j:
					score = 0
				}
				change := k * (score - Expected(before[i], before[j]))
				delta[i] += change
				delta[j] -= change
			}
		}
		for i, m := range p.Models {
			s := get(m)
			s.Rating += delta[i]
			switch p.Winner {
			case Tie:
				s.Ties++
			case i:
				s.Wins++
			default:
				s.Losses++
			}
		}
	}
	out := make([]Standing, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Standing) int {
		switch {
		case a.Rating > b.Rating:
			return -1
		case a.Rating < b.Rating:
			return 1
		}
		return strings.Compare(a.Model, b.Model)
	})
	return out
}
