package openai

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/fixtures"
	"github.com/parley-chat/parley/provider"
)

// BenchmarkDecodeRecorded decodes the largest recorded stream (1100+
// chunks of Groq reasoning, then content) from memory through the SSE
// decoder and the chunk decoder, without HTTP. It reports events/s.
func BenchmarkDecodeRecorded(b *testing.B) {
	dir := fixtures.Dir(b, "openai-sse")
	body := fixtureBody(b, filepath.Join(dir, "vercel-groq-qwen3-32b-reasoning.chunks.jsonl"))
	tr := provider.NewTransport(provider.Options{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		d := newDecoder(func(provider.Event) { events++ })
		if ae := d.run(context.Background(), tr, bytes.NewReader(body)); ae != nil {
			b.Fatal(ae)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStreamHTTP measures the whole path over loopback HTTP.
func BenchmarkStreamHTTP(b *testing.B) {
	dir := fixtures.Dir(b, "openai-sse")
	body := fixtureBody(b, filepath.Join(dir, "vercel-groq-qwen3-32b-reasoning.chunks.jsonl"))
	p := serve(b, body)
	b.SetBytes(int64(len(body)))
	events := 0
	for b.Loop() {
		p.Stream(context.Background(), &provider.Request{Model: "m"}, func(provider.Event) { events++ })
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
