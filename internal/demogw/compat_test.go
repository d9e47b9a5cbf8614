package demogw

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// These tests drive the demo gateway with an independent OpenAI client
// library, to check that it speaks the dialect a real client expects.

func sdkClient(url string) *openai.Client {
	cfg := openai.DefaultConfig("demo-key")
	cfg.BaseURL = url + "/v1"
	return openai.NewClientWithConfig(cfg)
}

func TestSDKChatAndModels(t *testing.T) {
	_, ts := testServer(t, instant())
	c := sdkClient(ts.URL)
	ctx := context.Background()

	models, err := c.ListModels(ctx)
	if err != nil || len(models.Models) != 3 || models.Models[1].ID != "demo-think" {
		t.Fatalf("ListModels: %v %+v", err, models)
	}

	resp, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:    "demo-think",
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "show me a table"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != tableAnswer || resp.Choices[0].Message.ReasoningContent == "" ||
		resp.Choices[0].FinishReason != openai.FinishReasonStop || resp.Usage.TotalTokens == 0 {
		t.Fatalf("completion %+v", resp.Choices[0])
	}

	stream, err := c.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{
		Model:         "demo-fast",
		Messages:      []openai.ChatCompletionMessage{{Role: "user", Content: "what's the weather?"}},
		Tools:         []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "get_weather"}}},
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var name, args, finish string
	var usage *openai.Usage
	for {
		ch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
		for _, choice := range ch.Choices {
			for _, tc := range choice.Delta.ToolCalls {
				name += tc.Function.Name
				args += tc.Function.Arguments
			}
			if choice.FinishReason != "" {
				finish = string(choice.FinishReason)
			}
		}
	}
	if name != "get_weather" || args != `{"location":"Paris"}` || finish != "tool_calls" || usage == nil {
		t.Fatalf("streamed tool call %q %q finish %q usage %v", name, args, finish, usage)
	}
}

func TestSDKSeesRateLimitErrors(t *testing.T) {
	_, ts := testServer(t, Options{Instant: true, QueueEvery: 1, Limit: 10})
	_, err := sdkClient(ts.URL).CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model:    "demo-fast",
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
	})
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusTooManyRequests || apiErr.Type != "rate_limit_error" ||
		!strings.Contains(apiErr.Message, "queued") {
		t.Fatalf("queued request: %v", err)
	}
}

func TestSDKImages(t *testing.T) {
	_, ts := testServer(t, instant())
	resp, err := sdkClient(ts.URL).CreateImage(context.Background(), openai.ImageRequest{
		Model: "demo-image", Prompt: "an ocean at dawn", Size: openai.CreateImageSize256x256,
		ResponseFormat: openai.CreateImageResponseFormatB64JSON,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := base64.StdEncoding.DecodeString(resp.Data[0].B64JSON)
	if err != nil {
		t.Fatal(err)
	}
	if b := decodePNG(t, data).Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("image %v", b)
	}
}
