package session

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Clock is the time a Player runs on: the real clock, or a ManualClock in
// tests and when a replay is rendered without a terminal.
type Clock interface {
	Now() time.Time
	// TimerAt returns a channel that receives once the clock reaches t,
	// and a function that stops it.
	TimerAt(t time.Time) (<-chan time.Time, func() bool)
}

// RealClock is the system clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// TimerAt is a time.Timer that fires at t.
func (RealClock) TimerAt(t time.Time) (<-chan time.Time, func() bool) {
	tm := time.NewTimer(time.Until(t))
	return tm.C, tm.Stop
}

// ManualClock is a clock that moves only when it is told to. Its timers
// fire when Set or Advance moves the time past their deadline. It is
// safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
	added  chan struct{} // closed and replaced when a timer is added
}

type manualTimer struct {
	at time.Time
	c  chan time.Time
}

// NewManualClock returns a clock standing at start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, added: make(chan struct{})}
}

// Now is the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// TimerAt returns a timer that fires when the clock reaches at.
func (c *ManualClock) TimerAt(at time.Time) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{at: at, c: make(chan time.Time, 1)}
	if !at.After(c.now) {
		t.c <- c.now
		return t.c, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	close(c.added)
	c.added = make(chan struct{})
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == t {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires the timers due.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	kept := c.timers[:0]
	for _, x := range c.timers {
		if x.at.After(c.now) {
			kept = append(kept, x)
			continue
		}
		x.c <- c.now
	}
	clear(c.timers[len(kept):])
	c.timers = kept
}

// Waiting is how many timers are pending.
func (c *ManualClock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// TimerAdded returns a channel that is closed when the next timer is
// added: a test waits on it to know a goroutine has begun to wait.
func (c *ManualClock) TimerAdded() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.added
}

// Speeds are the replay speeds + and - step through.
var Speeds = []float64{0.25, 0.5, 1, 2, 4, 8, 16}

// ErrRewound ends a wait that a move backwards made pointless.
var ErrRewound = errors.New("the replay was rewound")

// Player plays a Schedule on a clock that can be paused, sped up and
// moved. The position is a time on the schedule (Step.At); it advances
// with the clock, times the speed, unless paused. The steps that start
// answers are taken by the replay's driver (the chat's owner, which acts
// them out on its Chat); the event steps by the Player's Provider, whose
// Stream emits each event when it is due. A Player is safe for
// concurrent use.
type Player struct {
	sched   *Schedule
	clk     Clock
	guard   func(emit func(provider.Event)) func(provider.Event)
	emitted func(step int)

	mu      sync.Mutex
	speed   float64
	paused  bool
	pos     time.Duration // the position at `since`
	since   time.Time
	last    int           // the last step dispatched; -1 before the first
	lastPos time.Duration // the position it was dispatched at
	turn    int           // the turn the next Stream plays (set by its starting step)
	gen     int           // incremented by every move backwards
	changed chan struct{}
}

// PlayerOptions configure a Player.
type PlayerOptions struct {
	// Clock is the clock; nil is the real one.
	Clock Clock
	// Speed is the initial speed; 0 is 1.
	Speed float64
	// Guard, when set, wraps the emit of every stream: a redactor that
	// keeps a key out of what is shown.
	Guard func(emit func(provider.Event)) func(provider.Event)
	// Emitted, when set, is told (from the stream's goroutine) once a
	// stream has emitted the event of step i, everything it lets through
	// of it delivered.
	Emitted func(step int)
}

// NewPlayer returns a player of sched, at its start, playing.
func NewPlayer(sched *Schedule, o PlayerOptions) *Player {
	p := &Player{sched: sched, clk: o.Clock, guard: o.Guard, emitted: o.Emitted, speed: o.Speed, last: -1, turn: -1,
		changed: make(chan struct{})}
	if p.clk == nil {
		p.clk = RealClock{}
	}
	if p.speed <= 0 {
		p.speed = 1
	}
	p.since = p.clk.Now()
	return p
}

// Schedule is what the player plays.
func (p *Player) Schedule() *Schedule { return p.sched }

// position is the position now; p.mu is held.
func (p *Player) position() time.Duration {
	if p.paused {
		return p.pos
	}
	return p.pos + time.Duration(float64(p.clk.Now().Sub(p.since))*p.speed)
}

// Position is where the replay is on its schedule.
func (p *Player) Position() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.position()
}

// Finished reports whether every step has been dispatched.
func (p *Player) Finished() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last == len(p.sched.Steps)-1
}

// Now is the recorded time the replay stands at: the recorded time of
// the last step dispatched plus the time played since it was, up to the
// next step's. Events are stamped with it and the screen's clock reads it, so
// durations, rates and rate-limit countdowns show as they were recorded,
// whatever the speed. It stands still while the next step is due but not
// yet dispatched, so a replay that runs behind (or skips ahead) stamps
// each event with its own time.
func (p *Player) Now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	steps := p.sched.Steps
	if len(steps) == 0 {
		return p.clk.Now()
	}
	if p.last < 0 {
		return steps[0].Rec
	}
	cur := steps[p.last]
	played := max(p.position()-p.lastPos, 0)
	if p.last+1 < len(steps) {
		next := steps[p.last+1]
		if p.position() >= next.At {
			return cur.Rec
		}
		played = min(played, max(next.Rec.Sub(cur.Rec), 0))
	}
	return cur.Rec.Add(played)
}

// Speed is the current speed.
func (p *Player) Speed() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// Paused reports whether the replay is paused.
func (p *Player) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// change records the position and wakes every waiter to look again; p.mu
// is held.
func (p *Player) change() {
	p.pos = p.position()
	p.since = p.clk.Now()
	close(p.changed)
	p.changed = make(chan struct{})
}

// SetPaused pauses or resumes the replay.
func (p *Player) SetPaused(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.change()
	p.paused = paused
}

// TogglePause pauses a playing replay and resumes a paused one; it
// reports whether it is paused now.
func (p *Player) TogglePause() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.change()
	p.paused = !p.paused
	return p.paused
}

// SetSpeed sets the speed (positive).
func (p *Player) SetSpeed(s float64) {
	if s <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.change()
	p.speed = s
}

// Faster moves to the next of Speeds (slower with up false) and returns
// the new speed.
func (p *Player) Faster(up bool) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(Speeds)-1 && Speeds[i] < p.speed {
		i++
	}
	switch {
	case up && Speeds[i] <= p.speed && i < len(Speeds)-1:
		i++
	case !up && Speeds[i] >= p.speed && i > 0:
		i--
	}
	p.change()
	p.speed = Speeds[i]
	return p.speed
}

// Seek moves the replay forward to position v: every step before v
// falls due at once. A position behind the current one is ignored (see
// Rewind).
func (p *Player) Seek(v time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v <= p.position() {
		return
	}
	p.change()
	p.pos = v
}

// Rewind moves the replay to position v (usually backwards) to play it
// again from the first step: the driver starts its chat afresh, the steps
// before v fall due at once, and every wait begun before returns
// ErrRewound.
func (p *Player) Rewind(v time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.change()
	p.pos = max(v, 0)
	p.gen++
	p.last, p.lastPos, p.turn = -1, 0, -1
}

// Generation counts the moves backwards so far; waits carry it.
func (p *Player) Generation() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// Wait blocks until step i is due, then dispatches it (Now moves to its
// recorded time; a step that starts an answer chooses the turn the next
// Stream plays). It returns ctx's error when ctx ends first, and
// ErrRewound when the replay moved back after generation gen began.
func (p *Player) Wait(ctx context.Context, gen, i int) error {
	step := p.sched.Steps[i]
	fired := false // the step's timer fired: it is due, whatever rounding says
	for {
		p.mu.Lock()
		if p.gen != gen {
			p.mu.Unlock()
			return ErrRewound
		}
		pos := p.position()
		if pos >= step.At || fired {
			p.last, p.lastPos = i, pos
			if step.Starts() {
				p.turn = step.Turn
			}
			p.mu.Unlock()
			return nil
		}
		changed, paused := p.changed, p.paused
		var timer <-chan time.Time
		stop := func() bool { return false }
		if !paused {
			// The moment the step falls due, on the clock: reckoned from
			// the last change, not from a reading of the clock, which may
			// have moved on since.
			due := p.since.Add(time.Duration(math.Ceil(float64(step.At-p.pos) / p.speed)))
			timer, stop = p.clk.TimerAt(due)
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-changed:
			stop()
		case <-timer:
			select {
			case <-changed: // paused, sped up or moved meanwhile: look again
			default:
				fired = true
			}
		}
	}
}

// Provider is the gateway a replayed chat talks to: each Stream plays the
// events of the answer whose starting step was dispatched last, each when
// it is due. Its Name and Dialect are the recorded ones.
func (p *Player) Provider(name string, dialect provider.Dialect) provider.Provider {
	return &replayProvider{p: p, name: name, dialect: dialect}
}

type replayProvider struct {
	p       *Player
	name    string
	dialect provider.Dialect
}

func (r *replayProvider) Name() string              { return r.name }
func (r *replayProvider) Dialect() provider.Dialect { return r.dialect }

// Stream emits the recorded events of the current answer at their times.
// The request is not looked at: the answer is the one recorded.
func (r *replayProvider) Stream(ctx context.Context, _ *provider.Request, emit func(provider.Event)) error {
	p := r.p
	p.mu.Lock()
	gen, turn := p.gen, p.turn
	p.mu.Unlock()
	from := len(p.sched.Steps)
	for _, i := range p.sched.Starts {
		if p.sched.Steps[i].Turn == turn {
			from = i + 1
			break
		}
	}
	if r.p.guard != nil {
		emit = r.p.guard(emit)
	}
	steps := p.sched.Steps
	for i := from; i < len(steps) && steps[i].Kind == StepEvent && steps[i].Turn == turn; i++ {
		if err := p.Wait(ctx, gen, i); err != nil {
			return &provider.APIError{Kind: provider.KindCanceled, Title: "cancelled", Cause: err}
		}
		emit(steps[i].Event)
		if p.emitted != nil {
			p.emitted(i)
		}
		if Terminal(steps[i].Event) {
			if e, ok := steps[i].Event.(provider.Error); ok {
				return e.Err
			}
			return nil
		}
	}
	return &provider.APIError{Kind: provider.KindCanceled, Title: "cancelled"}
}
