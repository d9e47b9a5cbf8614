package provider

import "context"

// This file holds the optional capabilities: what only some dialects can
// do. A caller discovers one by asserting a Provider to its interface
// (p.(ImageGenerator)), so neither the chat screen nor the commands need to
// know which dialect package is behind a Provider.

// ModelLister is a Provider that can list the gateway's models.
type ModelLister interface {
	// Models returns the models the gateway offers, in its order.
	Models(ctx context.Context) ([]Model, error)
}

// ImageGenerator is a Provider that can generate images from a prompt
// (the OpenAI-compatible images endpoint).
type ImageGenerator interface {
	// GenerateImage sends req through the provider's transport (so rate
	// limits, retries and typed errors apply as for chat) and returns the
	// images, downloading any the gateway returned by address. On an error
	// it still returns the images completed before it.
	GenerateImage(ctx context.Context, req ImageRequest) ([]Image, error)
}

// UsageReporter is a Provider that can report the account's usage.
type UsageReporter interface {
	// Usage fetches the account's usage report.
	Usage(ctx context.Context) (*UsageReport, error)
}

// ImageRequest asks for images generated from a prompt. Empty fields take
// the gateway's defaults.
type ImageRequest struct {
	Model   string
	Prompt  string
	Size    string // e.g. "1024x1024"
	Quality string // e.g. "standard" or "hd"
	N       int    // how many images; 0 = the gateway's default
	// ResponseFormat asks for "b64_json" (inline) or "url" (downloaded).
	ResponseFormat string
	// Emit, when set, receives the transport's RateLimit and Retry events.
	Emit func(Event)
}

// Image is one generated image. Data holds the image bytes as the gateway
// sent them (downloaded when it answered with an address); it is not yet
// checked to be an image. URL is that address, if any.
type Image struct {
	Data          []byte
	URL           string
	RevisedPrompt string
}

// UsageReport is a gateway's account usage. Gateways do not agree on its
// shape, so the report keeps it generic: Raw is the answer as decoded
// JSON, and Fields flattens it into readable rows.
type UsageReport struct {
	// Raw is the answer as the gateway sent it, decoded.
	Raw map[string]any `json:"raw"`
	// Fields are the answer's values flattened to dotted paths
	// ("usage.inputTokens"), in the order they are best shown.
	Fields []UsageField `json:"fields"`
}

// UsageField is one value of a usage report.
type UsageField struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Number is true when the value is numeric.
	Number bool `json:"number,omitempty"`
}
