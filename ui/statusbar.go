package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
)

// statusInfo is everything the status bar shows, gathered from one pane
// and the root model. Strings from the network in it are raw; statusLine
// sanitizes them.
type statusInfo struct {
	Provider  string
	Model     string
	State     session.StreamState
	TokPerSec float64
	Elapsed   time.Duration // duration of the last finished answer
	Limits    []provider.RateLimit
	LastTok   int
	ConvTok   int
	Busy      string // background commands in flight (image generation, usage, model list)
	Flash     string // a transient message (copy result, command feedback)
	FlashWarn bool
}

// segment is one styled piece of the status bar.
type segment struct {
	text  string
	style lipgloss.Style
}

// statusSegments turns info into the status bar's pieces at time now.
func statusSegments(in statusInfo, now time.Time, th *themes.Theme) []segment {
	var segs []segment
	name := sanitize.Line(in.Provider)
	if m := sanitize.Line(in.Model); m != "" {
		if name != "" {
			name += "·"
		}
		name += m
	}
	if name != "" {
		segs = append(segs, segment{name, th.StatusBar.Bold(true)})
	}
	if s, st := stateText(in, now, th); s != "" {
		segs = append(segs, segment{s, st})
	}
	if in.Busy != "" {
		segs = append(segs, segment{sanitize.Line(in.Busy), th.StatusOK})
	}
	for _, rl := range in.Limits {
		if s, warn := rateLimitText(rl, now); s != "" {
			st := th.StatusBar
			if warn {
				st = th.StatusWarn
			}
			segs = append(segs, segment{s, st})
		}
	}
	if in.LastTok > 0 || in.ConvTok > 0 {
		segs = append(segs, segment{fmt.Sprintf("tok %s · conv %s", humanCount(in.LastTok), humanCount(in.ConvTok)), th.StatusBar})
	}
	if in.Flash != "" {
		st := th.StatusOK
		if in.FlashWarn {
			st = th.StatusWarn
		}
		segs = append(segs, segment{sanitize.Line(in.Flash), st})
	}
	return segs
}

// stateText is the request-state segment: connecting, queued with its
// countdown, retrying n/N, streaming with its rate, done, interrupted, error.
func stateText(in statusInfo, now time.Time, th *themes.Theme) (string, lipgloss.Style) {
	s := in.State
	switch s.Phase {
	case session.PhaseConnecting:
		return "connecting…", th.StatusBar
	case session.PhaseWaiting:
		if d := s.RetryIn(now); d > 0 {
			return "waiting for the rate limit · " + clock(d), th.StatusWarn
		}
		return "connecting…", th.StatusBar
	case session.PhaseQueued:
		if d := s.RetryIn(now); d > 0 {
			return "queued · retry in " + countdown(d), th.StatusWarn
		}
		return fmt.Sprintf("queued · retrying %d/%d", s.Attempt, s.MaxRetries), th.StatusWarn
	case session.PhaseRetrying:
		txt := fmt.Sprintf("retrying %d/%d", s.Attempt, s.MaxRetries)
		if s.Status > 0 {
			txt += fmt.Sprintf(" after %d", s.Status)
		}
		if d := s.RetryIn(now); d > 0 {
			txt += " · in " + countdown(d)
		}
		return txt, th.StatusWarn
	case session.PhaseStreaming:
		if in.TokPerSec > 0 {
			return fmt.Sprintf("streaming · %.0f tok/s", in.TokPerSec), th.StatusOK
		}
		return "streaming", th.StatusOK
	case session.PhaseDone:
		if in.Elapsed > 0 {
			return fmt.Sprintf("done · %.1f s", in.Elapsed.Seconds()), th.StatusOK
		}
		return "done", th.StatusOK
	case session.PhaseInterrupted:
		return "interrupted", th.StatusWarn
	case session.PhaseError:
		if s.Status > 0 {
			return fmt.Sprintf("error %d", s.Status), th.StatusError
		}
		return "error", th.StatusError
	}
	return "ready", th.StatusBar
}

// countdown formats a wait as whole seconds, rounding up so "retry in 0s"
// never shows while something is still pending.
func countdown(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 60 {
		return fmt.Sprintf("%ds", secs)
	}
	return clock(d)
}

// clock formats a duration as m:ss (or h:mm:ss), rounding up.
func clock(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 0 {
		secs = 0
	}
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// scopeNames shortens the common rate-limit scopes.
var scopeNames = map[string]string{"requests": "req", "tokens": "tok", "input_tokens": "in", "output_tokens": "out"}

// rateLimitText formats one scope as "req 7/20 · resets 0:42" and reports
// whether less than 10% of the limit remains.
func rateLimitText(rl provider.RateLimit, now time.Time) (string, bool) {
	s, warn := rateLimitCount(rl)
	if s != "" && !rl.Reset.IsZero() && rl.Reset.After(now) {
		s += " · resets " + clock(rl.Reset.Sub(now))
	}
	return s, warn
}

// rateLimitCount formats one scope's count as "req 7/20" ("" when the
// gateway gave neither figure) and reports whether less than 10% of the
// limit remains.
func rateLimitCount(rl provider.RateLimit) (string, bool) {
	if rl.Limit < 0 && rl.Remaining < 0 {
		return "", false
	}
	name := scopeNames[rl.Scope]
	if name == "" {
		name = sanitize.Line(rl.Scope)
	}
	num := func(n int) string {
		if n < 0 {
			return "?"
		}
		return humanCount(n)
	}
	warn := rl.Limit > 0 && rl.Remaining >= 0 && rl.Remaining*10 < rl.Limit
	return name + " " + num(rl.Remaining) + "/" + num(rl.Limit), warn
}

// humanCount prints counts above 9999 in thousands ("12.3k").
func humanCount(n int) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// statusLine lays the segments out in one line of exactly width cells,
// dropping trailing segments that do not fit and truncating the last one
// that does not, with the help hint at the right when there is room.
func statusLine(in statusInfo, now time.Time, width int, th *themes.Theme) string {
	if width <= 0 {
		return ""
	}
	segs := statusSegments(in, now, th)
	// The gateway's state matters more than the name of the model: when
	// the line is too long, the provider·model segment gives way first
	// (shortened, or dropped when fewer than 8 cells would be left), then
	// trailing segments are dropped.
	if len(segs) > 1 && (in.Provider != "" || in.Model != "") {
		total := 1 + 3*(len(segs)-1)
		for _, sg := range segs {
			total += ansi.StringWidth(sg.text)
		}
		if over := total - width; over > 0 {
			w0 := ansi.StringWidth(segs[0].text)
			if keep := w0 - over; keep >= 8 {
				segs[0].text = ansi.Truncate(segs[0].text, keep, "…")
			} else {
				segs = segs[1:]
			}
		}
	}
	sep := th.StatusBar.Render(" │ ")
	hint := th.StatusBar.Render(" ? help ")
	var b strings.Builder
	b.WriteString(th.StatusBar.Render(" "))
	used := 1
	for i, sg := range segs {
		w := ansi.StringWidth(sg.text)
		extra := 0
		if i > 0 {
			extra = 3
		}
		if used+extra+w > width {
			room := width - used - extra
			if room > 4 {
				if i > 0 {
					b.WriteString(sep)
				}
				t := ansi.Truncate(sg.text, room, "…")
				b.WriteString(sg.style.Render(t))
				used += extra + ansi.StringWidth(t)
			}
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(sg.style.Render(sg.text))
		used += extra + w
	}
	if hw := ansi.StringWidth(hint); used+hw <= width {
		b.WriteString(th.StatusBar.Render(strings.Repeat(" ", width-used-hw)))
		b.WriteString(hint)
	} else if used < width {
		b.WriteString(th.StatusBar.Render(strings.Repeat(" ", width-used)))
	}
	return b.String()
}
