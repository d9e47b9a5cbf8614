package ui

import (
	"fmt"
	"math"
	"slices"
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
	// Tool, when set, is what the pane's tool loop waits for ("approve the
	// tool call", "running get_time"); it stands in for the state.
	Tool      string
	Flash     string // a transient message (copy result, key feedback)
	FlashWarn bool
}

// Segment priorities: when the bar is too narrow, segments give way from
// the lowest priority up (see fitSegments). The state and the model are
// never the first to go.
const (
	prioHint     = 10 // "? help"
	prioTokens   = 20 // the answer's and the conversation's tokens
	prioLimit    = 30 // a rate-limit scope
	prioLowLimit = 40 // a rate-limit scope under 10%: why a request waits
	prioBusy     = 45 // background commands
	prioFlash    = 50 // a transient message
	prioModel    = 90 // provider·model
	prioState    = 100
)

// segment is one styled piece of the status bar.
type segment struct {
	text  string
	style lipgloss.Style
	prio  int
	short string // a shorter form tried before the segment is cut (the model without the provider)
}

// statusSegments turns info into the status bar's pieces at time now, in
// the order they are shown; the help hint is not among them.
func statusSegments(in statusInfo, now time.Time, th *themes.Theme) []segment {
	var segs []segment
	model := sanitize.Line(in.Model)
	name := sanitize.Line(in.Provider)
	if model != "" {
		if name != "" {
			name += "·"
		}
		name += model
	}
	if name != "" {
		segs = append(segs, segment{text: name, style: th.StatusBar.Bold(true), prio: prioModel, short: model})
	}
	if s, st := stateText(in, now, th); s != "" {
		segs = append(segs, segment{text: s, style: st, prio: prioState})
	}
	if in.Flash != "" {
		st := th.StatusOK
		if in.FlashWarn {
			st = th.StatusWarn
		}
		segs = append(segs, segment{text: sanitize.Line(in.Flash), style: st, prio: prioFlash})
	}
	if in.Busy != "" {
		segs = append(segs, segment{text: sanitize.Line(in.Busy), style: th.StatusOK, prio: prioBusy})
	}
	for _, rl := range in.Limits {
		if s, warn := rateLimitText(rl, now); s != "" {
			sg := segment{text: s, style: th.StatusBar, prio: prioLimit}
			if warn {
				sg.style, sg.prio = th.StatusWarn, prioLowLimit
			}
			segs = append(segs, sg)
		}
	}
	if in.LastTok > 0 || in.ConvTok > 0 {
		segs = append(segs, segment{text: fmt.Sprintf("answer %s · context %s", humanCount(in.LastTok), humanCount(in.ConvTok)),
			style: th.StatusBar, prio: prioTokens})
	}
	return segs
}

// stateText is the request-state segment: connecting, queued with its
// countdown, retrying n/N, streaming with its rate, done, interrupted, error.
func stateText(in statusInfo, now time.Time, th *themes.Theme) (string, lipgloss.Style) {
	if in.Tool != "" && in.State.Phase != session.PhaseStreaming {
		return in.Tool, th.StatusWarn
	}
	s := in.State
	switch s.Phase {
	case session.PhaseConnecting:
		return waitingText(in, now), th.StatusBar
	case session.PhaseWaiting:
		if d := s.RetryIn(now); d > 0 {
			return "waiting for the rate limit · " + clock(d), th.StatusWarn
		}
		return waitingText(in, now), th.StatusBar
	case session.PhaseQueued:
		if d := s.RetryIn(now); d > 0 {
			return "queued · retry in " + countdown(d), th.StatusWarn
		}
		return fmt.Sprintf("%s · retry %d/%d", waitingText(in, now), s.Attempt, s.MaxRetries), th.StatusWarn
	case session.PhaseRetrying:
		d := s.RetryIn(now)
		if d <= 0 {
			return fmt.Sprintf("%s · retry %d/%d", waitingText(in, now), s.Attempt, s.MaxRetries), th.StatusWarn
		}
		txt := fmt.Sprintf("retrying %d/%d", s.Attempt, s.MaxRetries)
		if s.Status > 0 {
			txt += fmt.Sprintf(" after %d", s.Status)
		}
		return txt + " · in " + countdown(d), th.StatusWarn
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

// waitingText is the state of a request sent and not yet answered: how
// long it has waited for the gateway's response headers (a queueing
// gateway may hold a request for minutes).
func waitingText(in statusInfo, now time.Time) string {
	if in.State.Since.IsZero() {
		return "connecting…"
	}
	d := now.Sub(in.State.Since)
	if d < time.Second {
		return "connecting…"
	}
	return "waiting for the gateway · " + elapsedClock(d)
}

// elapsedClock formats time gone by as m:ss (or h:mm:ss), in whole
// seconds passed.
func elapsedClock(d time.Duration) string {
	return clockSeconds(int(d / time.Second))
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
	return clockSeconds(int(math.Ceil(d.Seconds())))
}

// clockSeconds formats a number of seconds as m:ss (or h:mm:ss).
func clockSeconds(secs int) string {
	if secs < 0 {
		secs = 0
	}
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// scopeNames shortens the common rate-limit scopes (the providers name
// Anthropic's "input-tokens"; others write "input_tokens").
var scopeNames = map[string]string{"requests": "req", "tokens": "tok",
	"input_tokens": "in tok", "input-tokens": "in tok", "output_tokens": "out tok", "output-tokens": "out tok"}

// rateLimitText formats one scope as "req 7/20 · resets 0:42" and reports
// whether less than 10% of the limit remains. The countdown shows whole
// seconds left, rounded down: a reset time given in whole seconds (and
// rounded up by the gateway) must not make a 60-second window read 1:01.
// Once the reset time has passed the remaining count is out of date: the
// scope reads "req ?/20 · reset" until the gateway reports it again.
func rateLimitText(rl provider.RateLimit, now time.Time) (string, bool) {
	s, warn := rateLimitCount(rl, now)
	if s != "" && !rl.Reset.IsZero() && rl.Reset.After(now) {
		s += " · resets " + elapsedClock(rl.Reset.Sub(now))
	}
	return s, warn
}

// rateLimitCount formats one scope's count as "req 7/20" ("" when the
// gateway gave neither figure; "req ?/20 · reset" once the window has
// reset) and reports whether less than 10% of the limit remains.
func rateLimitCount(rl provider.RateLimit, now time.Time) (string, bool) {
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
	if !rl.Reset.IsZero() && !now.Before(rl.Reset) {
		return name + " ?/" + num(rl.Limit) + " · reset", false
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

// statusHint is the help hint at the right of the bar.
const statusHint = " ? help "

// statusLine lays the segments out in one line of exactly width cells:
// what does not fit gives way by priority (fitSegments), and the help
// hint sits at the right when there is room for it.
func statusLine(in statusInfo, now time.Time, width int, th *themes.Theme) string {
	if width <= 0 {
		return ""
	}
	segs, hint := fitSegments(statusSegments(in, now, th), width)
	var b strings.Builder
	used := 0
	for i, sg := range segs {
		if i == 0 {
			b.WriteString(th.StatusBar.Render(" "))
			used++
		} else {
			b.WriteString(th.StatusBar.Render(" │ "))
			used += 3
		}
		b.WriteString(sg.style.Render(sg.text))
		used += ansi.StringWidth(sg.text)
	}
	if hint {
		b.WriteString(th.StatusBar.Render(strings.Repeat(" ", max(width-used-len(statusHint), 0))))
		b.WriteString(th.StatusBar.Render(statusHint))
	} else if used < width {
		b.WriteString(th.StatusBar.Render(strings.Repeat(" ", width-used)))
	}
	return ansi.Truncate(b.String(), width, "")
}

// barWidth is the width segs take: a leading space, " │ " between them,
// and the hint with at least one space before it.
func barWidth(segs []segment, hint bool) int {
	w := 0
	for i, sg := range segs {
		w += ansi.StringWidth(sg.text) + 3
		if i == 0 {
			w -= 2
		}
	}
	if hint {
		w += len(statusHint) + 1
	}
	return w
}

// fitSegments makes segs fit width cells and says whether the help hint
// fits too. In this order, until they fit: the hint goes; the segments
// below a low rate limit go, lowest priority first (tokens, then the rate
// limits with room left); the model is named without its provider; the
// low rate limits and background commands go; the flash is cut (at no
// fewer than 12 cells, else it goes); the model is cut (to no fewer than
// 6 cells, else it goes); the state is cut.
func fitSegments(segs []segment, width int) ([]segment, bool) {
	segs = slices.Clone(segs)
	hint := true
	fits := func() bool { return barWidth(segs, hint) <= width }
	if fits() {
		return segs, true
	}
	hint = false
	dropBelow := func(prio int) {
		for !fits() {
			low := -1
			for i, sg := range segs {
				if sg.prio < prio && (low < 0 || sg.prio < segs[low].prio) {
					low = i
				}
			}
			if low < 0 {
				return
			}
			segs = slices.Delete(segs, low, low+1)
		}
	}
	dropBelow(prioLowLimit)
	for i := range segs {
		if !fits() && segs[i].prio == prioModel && segs[i].short != "" {
			segs[i].text = segs[i].short
		}
	}
	dropBelow(prioFlash)
	for _, prio := range []int{prioFlash, prioModel, prioState} {
		for i := 0; i < len(segs) && !fits(); i++ {
			if segs[i].prio != prio {
				continue
			}
			room := ansi.StringWidth(segs[i].text) - (barWidth(segs, false) - width)
			minimum := map[int]int{prioFlash: 12, prioModel: 6, prioState: 1}[prio]
			if room >= minimum {
				segs[i].text = ansi.Truncate(segs[i].text, room, "…")
			} else if prio != prioState {
				segs = slices.Delete(segs, i, i+1)
				i--
			}
		}
	}
	return segs, false
}
