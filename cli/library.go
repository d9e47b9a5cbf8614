package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui"
)

// browserLimit bounds the conversations and search hits the session
// browser lists.
const browserLimit = 500

// The session browser's side of chatSessions (ui.Library): the store's
// listing, search, loading and deleting, and opening a conversation in
// the chat with a recorder of its own.

// List returns the saved conversations, the most recently used first.
func (c chatSessions) List(ctx context.Context) ([]ui.SessionInfo, error) {
	list, err := c.st.List(ctx, browserLimit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.SessionInfo, 0, len(list))
	for _, s := range list {
		if !s.IsComparison() {
			out = append(out, sessionInfo(s))
			continue
		}
		// The browser opens one conversation: a comparison is its
		// columns, each named after it.
		for _, col := range s.Columns {
			info := sessionInfo(col)
			info.Title = fmt.Sprintf("%s · column %d of %d", s.Title, col.Position+1, len(s.Columns))
			out = append(out, info)
		}
	}
	return out, nil
}

func sessionInfo(s store.Summary) ui.SessionInfo {
	return ui.SessionInfo{ID: s.ID, Title: s.Title, Model: s.Model, Updated: s.Updated, Messages: s.Messages,
		Status: string(s.Status)}
}

// Search finds the messages holding every word of query.
func (c chatSessions) Search(ctx context.Context, query string) ([]ui.SessionHit, error) {
	hits, err := c.st.Search(ctx, query, browserLimit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.SessionHit, len(hits))
	for i, h := range hits {
		out[i] = ui.SessionHit{SessionInfo: sessionInfo(h.Conversation), Snippet: h.Snippet, Marks: h.Marks}
	}
	return out, nil
}

// Load reads a conversation for the browser's preview.
func (c chatSessions) Load(ctx context.Context, id string) (session.Saved, error) {
	conv, err := c.st.Load(ctx, id, store.LoadOptions{})
	if err != nil {
		return session.Saved{}, err
	}
	return conv.Saved(), nil
}

// Delete removes a conversation (not one another Parley has open).
func (c chatSessions) Delete(ctx context.Context, id string) error {
	return c.st.Delete(ctx, id)
}

// Open resumes a conversation in the chat: it is claimed for this
// process and a new recorder saves what follows (the conversation left
// stays saved by its own). It carries on with its own settings when it
// was held with this provider profile; with another, the chat's provider
// and model stay and the conversation brings its system prompt. Tools
// and the schema are this run's either way.
func (c chatSessions) Open(ctx context.Context, id string) (ui.Opened, error) {
	if c.r == nil {
		return ui.Opened{}, errors.New("a comparison's column cannot open another conversation")
	}
	conv, err := c.st.Resume(ctx, id)
	if err != nil {
		return ui.Opened{}, err
	}
	s := c.settings
	if strings.EqualFold(conv.Provider, c.provider) {
		s = conv.Settings
		s.Tools, s.ToolsMode = c.settings.Tools, c.settings.ToolsMode
		s.ResponseFormat, s.Schema = c.settings.ResponseFormat, c.settings.Schema
		if s.Model == "" {
			s.Model = c.settings.Model
		}
	} else {
		s.System = conv.Settings.System
	}
	c.r.mu.Lock()
	o := c.r.recOpts
	o.Resumed = conv
	rec := c.st.Recorder(o)
	c.r.rec = rec
	c.r.mu.Unlock()
	return ui.Opened{Saved: conv.Saved(), Settings: s, Observers: []session.Observer{rec}, Title: conv.Title}, nil
}

// The chat finds the browser's library by asserting its Sessions.
var _ ui.Library = chatSessions{}
