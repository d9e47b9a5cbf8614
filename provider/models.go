package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The budget of one model list, over all its pages: a gateway whose
// pagination never ends (a fresh cursor on every page) gets a clear error
// instead of Parley's memory.
const (
	MaxModels         = 50000
	MaxModelListBytes = 64 << 20
	MaxModelListTime  = 2 * time.Minute
)

// errModelListTime is the cause of a model list's context past its time.
var errModelListTime = errors.New("model list took too long")

// ModelList counts what a model list has used of its budget, page by
// page. The zero value is ready once Start has given it its context.
type ModelList struct {
	pages, bytes int
	ctx          context.Context
}

// Start returns the context the list's requests run under: ctx bounded by
// MaxModelListTime. Call the returned function when done.
func (l *ModelList) Start(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(ctx, MaxModelListTime, errModelListTime)
	l.ctx = ctx
	return ctx, cancel
}

// Page takes one page of n bytes, after which the list holds models
// models, and returns the error that ends the list when a budget is past.
func (l *ModelList) Page(n, models int) *APIError {
	l.pages++
	l.bytes += n
	switch {
	case models > MaxModels:
		return l.tooLarge(fmt.Sprintf("more than %d models", MaxModels), models)
	case l.bytes > MaxModelListBytes:
		return l.tooLarge(fmt.Sprintf("more than %d MB", MaxModelListBytes>>20), models)
	}
	return nil
}

// Err turns an error met while listing into the list's own error when the
// list ran out of time.
func (l *ModelList) Err(err error, models int) error {
	if l.ctx != nil && context.Cause(l.ctx) == errModelListTime {
		return l.tooLarge(fmt.Sprintf("longer than %s", MaxModelListTime), models)
	}
	return err
}

func (l *ModelList) tooLarge(what string, models int) *APIError {
	return &APIError{Kind: KindStream, Title: "model list too large",
		Message: fmt.Sprintf("the gateway's model list took %s (%d pages, %d models so far); Parley stopped asking for more", what, l.pages, models)}
}

// EachModel decodes a page of a model list, data, a JSON object whose
// field key is the list: it calls add with each element, decoded into a
// fresh E, until add returns false, without holding the whole list (or
// more than one element) in memory. An element of another shape is
// skipped. Use json.Unmarshal into a struct without key for the page's
// other fields (the cursor): skipping the list costs no memory.
func EachModel[E any](data []byte, key string, add func(*E) bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != key {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if err := expectDelim(dec, '['); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		for dec.More() {
			var e E
			err := dec.Decode(&e)
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te):
				continue
			case err != nil:
				return err
			}
			if !add(&e) {
				return nil
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	return nil
}

// expectDelim reads the next token, which must be the delimiter d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}
