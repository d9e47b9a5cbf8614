package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/imagefile"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
)

// This file holds the chat's background commands: /image, /usage and the
// model list behind /model. Each does its network and disk work in a
// tea.Cmd and reports back with a message; Update only records the task,
// shows it in the status bar, and puts the result in the transcript.

// taskKind names what a background command does.
type taskKind int

const (
	taskImage taskKind = iota
	taskUsage
	taskModels
	taskCompare
)

// taskID identifies one background command in flight; any number of them,
// of any kinds, may run at once.
type taskID int

// task is a background command in flight.
type task struct {
	kind     taskKind
	label    string
	start    time.Time
	retryAt  time.Time // when a retry is waiting: its moment
	retry    string    // "retry 1/3"
	cancel   context.CancelFunc
	canceled bool
}

type (
	// taskDoneMsg carries the result of a background command started
	// with track: handling it ends the task, whatever the result says.
	taskDoneMsg struct {
		task taskID
		msg  tea.Msg
	}
	// taskEventMsg carries a transport event (a retry) of a background
	// command to the status bar.
	taskEventMsg struct {
		task taskID
		ev   provider.Event
	}
	// imageResultMsg reports a finished /image: what was saved (possibly
	// some images before an error) and the error, if any.
	imageResultMsg struct {
		pane          PaneID
		model, prompt string
		saved         []savedImage
		err           error
	}
	// usageResultMsg reports a finished /usage.
	usageResultMsg struct {
		pane PaneID
		rep  *provider.UsageReport
		err  error
	}
	// modelsResultMsg reports the gateway's model list.
	modelsResultMsg struct {
		models []provider.Model
		err    error
	}
)

// savedImage is one image /image wrote.
type savedImage struct {
	path    string
	revised string
}

// startTask records a background command and returns the context it runs
// under (cancelled by ctrl+c, on quit, or with the chat's context) and its
// ID. Its command should be wrapped with track, so that its result ends it.
func (m *Model) startTask(kind taskKind, label string) (context.Context, taskID) {
	ctx, cancel := context.WithCancel(m.ctx)
	if m.tasks == nil {
		m.tasks = map[taskID]*task{}
	}
	m.lastTask++
	m.tasks[m.lastTask] = &task{kind: kind, label: label, start: m.now(), cancel: cancel}
	m.refresh()
	return ctx, m.lastTask
}

// track wraps the command of task id: its result message comes back in a
// taskDoneMsg, which ends the task before the result is handled.
func (m *Model) track(id taskID, cmd tea.Cmd) tea.Cmd {
	return func() tea.Msg { return taskDoneMsg{task: id, msg: cmd()} }
}

// endTask forgets a finished background command.
func (m *Model) endTask(id taskID) {
	if t := m.tasks[id]; t != nil {
		t.cancel()
		delete(m.tasks, id)
	}
	m.refresh()
}

// taskRunning reports whether a background command of kind is running.
func (m *Model) taskRunning(kind taskKind) bool {
	for _, t := range m.tasks {
		if t.kind == kind {
			return true
		}
	}
	return false
}

// runningTasks are the background commands in flight, oldest first.
func (m *Model) runningTasks() []*task {
	ids := slices.Sorted(maps.Keys(m.tasks))
	out := make([]*task, len(ids))
	for i, id := range ids {
		out[i] = m.tasks[id]
	}
	return out
}

// onTaskMsg handles what background commands send back.
func (m *Model) onTaskMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case taskDoneMsg:
		m.endTask(msg.task)
		return m.update(msg.msg)
	case taskEventMsg:
		m.onTaskEvent(msg)
	case imageResultMsg:
		m.onImageResult(msg)
	case usageResultMsg:
		m.onUsageResult(msg)
	case modelsResultMsg:
		m.onModelsResult(msg)
	}
	return nil
}

// cancelTasks stops the background commands still running and returns
// their labels; their results still arrive, as cancellations.
func (m *Model) cancelTasks() []string {
	var out []string
	for _, t := range m.runningTasks() {
		if !t.canceled {
			t.canceled = true
			t.cancel()
			out = append(out, t.label)
		}
	}
	return out
}

// busyText is the status bar's view of the running background commands:
// "generating image (dall-e-3) · 12s · retry 1/3 in 4s".
func (m *Model) busyText(now time.Time) string {
	var parts []string
	for _, t := range m.runningTasks() {
		s := t.label + "…"
		if t.canceled {
			s = t.label + " · stopping"
		} else if d := now.Sub(t.start); d >= time.Second {
			s += " " + countdown(d)
		}
		if t.retry != "" && t.retryAt.After(now) {
			s += " · " + t.retry + " in " + countdown(t.retryAt.Sub(now))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// onTaskEvent shows a background command's retries.
func (m *Model) onTaskEvent(msg taskEventMsg) {
	t := m.tasks[msg.task]
	if t == nil {
		return
	}
	if r, ok := msg.ev.(provider.Retry); ok {
		t.retry = fmt.Sprintf("retry %d/%d", r.Attempt, r.Max)
		if r.Queued {
			t.retry = "queued, " + t.retry
		}
		t.retryAt = m.now().Add(r.Wait)
		m.refresh()
	}
}

// isCanceled reports whether err is the user's cancellation.
func isCanceled(err error) bool {
	var ae *provider.APIError
	return errors.Is(err, context.Canceled) || (errors.As(err, &ae) && ae.Kind == provider.KindCanceled)
}

// errorSummary is an error's one-line form for the status bar.
func errorSummary(err error) string {
	var ae *provider.APIError
	if errors.As(err, &ae) {
		s := ae.Title
		if ae.Status > 0 {
			s = strings.TrimSpace(fmt.Sprintf("%d %s", ae.Status, ae.Title))
		}
		if ae.Message != "" {
			s = strings.TrimSpace(s + ": " + ae.Message)
		}
		if s != "" {
			return s
		}
	}
	return err.Error()
}

// ---- /image

// parseImageArg splits /image's argument: an optional "--model NAME"
// (also "-m NAME" or "--model=NAME") before the prompt.
func parseImageArg(arg string) (model, prompt string, err error) {
	s := strings.TrimSpace(arg)
	head, rest, _ := strings.Cut(s, " ")
	switch {
	case head == "--model" || head == "-m":
		model, prompt, _ = strings.Cut(strings.TrimSpace(rest), " ")
	case strings.HasPrefix(head, "--model="):
		model, prompt = strings.TrimPrefix(head, "--model="), rest
	default:
		return "", s, nil
	}
	prompt = strings.TrimSpace(prompt)
	if model == "" {
		return "", "", fmt.Errorf("--model needs a model name")
	}
	return model, prompt, nil
}

// runImage starts /image: checks the provider and the argument, then
// generates and saves in a command.
func (m *Model) runImage(p *Pane, arg string) tea.Cmd {
	gen, ok := p.spec.Provider.(provider.ImageGenerator)
	if !ok {
		p.warning(fmt.Sprintf("/image needs an OpenAI-compatible gateway (dialect %s); %s speaks the %s dialect",
			provider.DialectOpenAI, m.providerLabel(), p.spec.Provider.Dialect()), m.rc(p))
		return nil
	}
	model, prompt, err := parseImageArg(arg)
	if err == nil && prompt == "" {
		err = errors.New("the prompt is empty")
	}
	if err != nil {
		p.warning("/image: "+err.Error()+" — usage: /image [--model NAME] PROMPT", m.rc(p))
		return nil
	}
	if model == "" {
		model = imagefile.ModelFor(p.chat.Settings().Model, p.spec.Models)
	}
	if m.taskRunning(taskImage) {
		p.warning("an image is already being generated — ctrl+c stops it", m.rc(p))
		return nil
	}
	ctx, id := m.startTask(taskImage, "generating image ("+model+")")
	send := m.send
	req := provider.ImageRequest{Model: model, Prompt: prompt, N: 1, ResponseFormat: "b64_json",
		Emit: func(ev provider.Event) {
			if _, ok := ev.(provider.Retry); ok {
				send(taskEventMsg{task: id, ev: ev})
			}
		}}
	return m.track(id, imageCmd(ctx, gen, req, m.opts.ImageDir, m.now(), p.ID))
}

// imageCmd generates the images, then saves them in dir
// (imagefile.DefaultDir when empty; created when missing) under new names.
// The folder is created before the gateway is asked, so a paid generation
// is not lost to an unwritable folder.
func imageCmd(ctx context.Context, gen provider.ImageGenerator, req provider.ImageRequest, dir string, stamp time.Time, pane PaneID) tea.Cmd {
	return func() tea.Msg {
		res := imageResultMsg{pane: pane, model: req.Model, prompt: req.Prompt}
		if dir == "" {
			dir = imagefile.DefaultDir(os.Getenv)
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if err := imagefile.MakeDir(dir); err != nil {
			res.err = err
			return res
		}
		imgs, err := gen.GenerateImage(ctx, req)
		saved, serr := imagefile.Save(dir, stamp, imgs)
		for _, s := range saved {
			res.saved = append(res.saved, savedImage{path: s.Path, revised: s.Image.RevisedPrompt})
		}
		res.err = cmp.Or(err, serr)
		return res
	}
}

// onImageResult puts a finished /image in the transcript: the model, the
// prompt, the gateway's revised prompt and the saved paths, or the error.
func (m *Model) onImageResult(msg imageResultMsg) {
	p := m.pane(msg.pane)
	if p == nil {
		p = m.focused()
	}
	rc := m.rc(p)
	canceled := isCanceled(msg.err)
	if canceled && len(msg.saved) == 0 {
		p.notice("image generation stopped", rc)
		m.setFlash("image generation stopped", false)
		return
	}
	in := &info{title: "image · " + msg.model, rows: [][2]string{{"prompt", msg.prompt}}}
	for _, s := range msg.saved {
		if s.revised != "" && s.revised != msg.prompt {
			in.rows = append(in.rows, [2]string{"revised", s.revised})
		}
		in.rows = append(in.rows, [2]string{"saved", s.path})
	}
	if msg.err != nil && !canceled {
		in.err = msg.err
	}
	p.addInfo(in, rc)
	switch {
	case in.err != nil:
		m.setFlash("image generation failed: "+errorSummary(msg.err), true)
	case len(msg.saved) == 1:
		m.setFlash("image saved: "+filepath.Base(msg.saved[0].path), false)
	default:
		m.setFlash(fmt.Sprintf("%d images saved", len(msg.saved)), false)
	}
}

// ---- /usage

// runUsage starts /usage on a gateway that has a usage endpoint.
func (m *Model) runUsage(p *Pane) tea.Cmd {
	u, ok := p.spec.Provider.(provider.UsageReporter)
	if !ok {
		p.warning(fmt.Sprintf("/usage needs a native REST gateway (dialect %s); %s speaks the %s dialect",
			provider.DialectCuadra, m.providerLabel(), p.spec.Provider.Dialect()), m.rc(p))
		return nil
	}
	if m.taskRunning(taskUsage) {
		p.notice("the usage is already being fetched", m.rc(p))
		return nil
	}
	ctx, task := m.startTask(taskUsage, "fetching usage")
	id := p.ID
	return m.track(task, func() tea.Msg {
		rep, err := u.Usage(ctx)
		return usageResultMsg{pane: id, rep: rep, err: err}
	})
}

// onUsageResult shows the usage values as a table in the transcript.
func (m *Model) onUsageResult(msg usageResultMsg) {
	p := m.pane(msg.pane)
	if p == nil {
		p = m.focused()
	}
	rc := m.rc(p)
	switch {
	case isCanceled(msg.err):
		p.notice("usage request stopped", rc)
	case msg.err != nil:
		p.addInfo(&info{title: "usage · " + m.providerLabel(), err: msg.err}, rc)
		m.setFlash("usage: "+errorSummary(msg.err), true)
	case msg.rep == nil || len(msg.rep.Fields) == 0:
		p.notice("the gateway reported no usage values", rc)
	default:
		in := &info{title: "usage · " + m.providerLabel()}
		for _, f := range msg.rep.Fields {
			in.rows = append(in.rows, [2]string{f.Key, f.Value})
		}
		p.addInfo(in, rc)
	}
	m.refresh()
}

// ---- the model list

// fetchModels asks the gateway for its models, once at a time. A
// provider that cannot list models answers with an empty list, so the
// profile's models are all there is.
func (m *Model) fetchModels() tea.Cmd {
	if m.taskRunning(taskModels) {
		return nil
	}
	lister, ok := m.focused().spec.Provider.(provider.ModelLister)
	if !ok {
		return func() tea.Msg { return modelsResultMsg{} }
	}
	ctx, id := m.startTask(taskModels, "listing models")
	return m.track(id, func() tea.Msg {
		ms, err := lister.Models(ctx)
		return modelsResultMsg{models: ms, err: err}
	})
}

// listModels is /model without an argument: the model list from the cache,
// or once fetched.
func (m *Model) listModels(p *Pane) tea.Cmd {
	if m.modelsFetched {
		m.showModelList(p, nil)
		return nil
	}
	m.showModelsIn = p.ID
	return m.fetchModels()
}

// onModelsResult merges the gateway's models into the known ones (for the
// list and Tab completion) and shows the list when /model asked for it.
func (m *Model) onModelsResult(msg modelsResultMsg) {
	if msg.err == nil {
		m.models = mergeModels(m.models, msg.models)
		m.modelsFetched = true
	} else {
		m.modelsFailed = true
	}
	if id := m.showModelsIn; id != 0 {
		m.showModelsIn = 0
		p := m.pane(id)
		if p == nil {
			p = m.focused()
		}
		var err error
		if !isCanceled(msg.err) {
			err = msg.err
		}
		m.showModelList(p, err)
	}
	if msg.err != nil && !isCanceled(msg.err) {
		m.setFlash("could not list the models: "+errorSummary(msg.err), true)
	}
	m.layout() // the completion line may have new candidates
}

// showModelList adds the known models to the transcript, the current one
// marked, with the error of a failed listing.
func (m *Model) showModelList(p *Pane, err error) {
	names := slices.Clone(m.models)
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	cur := p.chat.Settings().Model
	in := &info{
		title:  fmt.Sprintf("models · %s · %d", m.providerLabel(), len(names)),
		rows:   [][2]string{{"current", orDash(cur)}},
		list:   names,
		marked: cur,
		err:    err,
	}
	if len(names) == 0 && err == nil {
		in.rows = append(in.rows, [2]string{"known", "the gateway listed no models; /model NAME sets one"})
	}
	p.addInfo(in, m.rc(p))
	m.refresh()
}

// mergeModels adds the gateway's model ids to the known ones, keeping the
// known order and dropping duplicates and ids that are empty or unsafe to
// complete into the input.
func mergeModels(known []string, fetched []provider.Model) []string {
	seen := make(map[string]bool, len(known)+len(fetched))
	out := make([]string, 0, len(known)+len(fetched))
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] || sanitize.Line(id) != id || strings.ContainsAny(id, " \t") {
			return
		}
		seen[id] = true
		out = append(out, id)
	}
	for _, id := range known {
		add(id)
	}
	for _, fm := range fetched {
		add(fm.ID)
	}
	return out
}

// providerLabel is the focused pane's profile name, for messages.
func (m *Model) providerLabel() string {
	spec := m.focused().spec
	if spec.ProviderName != "" {
		return spec.ProviderName
	}
	return spec.Provider.Name()
}
