package gemini

import (
	"encoding/json"

	"github.com/parley-chat/parley/provider"
)

// The Gemini REST wire types Parley uses, and only the fields it reads or
// writes. Field names follow the generateContent reference.

type generateRequest struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
	Tools             []tool            `json:"tools,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             string            `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
	InlineData       *struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	} `json:"inlineData,omitempty"`
}

// functionCall is a call in either form: whole (name + args) or, from
// Gemini 3, streamed (name + willContinue, then partialArgs fragments,
// then an empty functionCall that closes it).
type functionCall struct {
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Args         json.RawMessage `json:"args,omitempty"`
	PartialArgs  []partialArg    `json:"partialArgs,omitempty"`
	WillContinue bool            `json:"willContinue,omitempty"`
}

// partialArg is one fragment of streamed arguments: a JSONPath into the
// arguments object and a value; string values continue across fragments.
type partialArg struct {
	JSONPath     string          `json:"jsonPath"`
	StringValue  *string         `json:"stringValue,omitempty"`
	NumberValue  json.RawMessage `json:"numberValue,omitempty"`
	BoolValue    *bool           `json:"boolValue,omitempty"`
	NullValue    json.RawMessage `json:"nullValue,omitempty"`
	WillContinue bool            `json:"willContinue,omitempty"`
}

type functionResponse struct {
	// ID answers the functionCall with the same id, when Gemini gave it one.
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type generationConfig struct {
	Temperature      *float64 `json:"temperature,omitempty"`
	TopP             *float64 `json:"topP,omitempty"`
	MaxOutputTokens  int      `json:"maxOutputTokens,omitempty"`
	StopSequences    []string `json:"stopSequences,omitempty"`
	ResponseMimeType string   `json:"responseMimeType,omitempty"`
	// ResponseJSONSchema is the answer's schema as JSON Schema; Gemini's
	// older responseSchema takes only an OpenAPI subset, so Parley does
	// not use it.
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig,omitempty"`
}

type thinkingConfig struct {
	IncludeThoughts bool `json:"includeThoughts"`
	ThinkingBudget  *int `json:"thinkingBudget,omitempty"`
}

type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
}

type functionDeclaration struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// generateResponse is one GenerateContentResponse (a whole answer, or one
// event of a stream).
type generateResponse struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
}

type candidate struct {
	Content          *content `json:"content"`
	FinishReason     string   `json:"finishReason"`
	FinishMessage    string   `json:"finishMessage"`
	Index            int      `json:"index"`
	CitationMetadata *struct {
		CitationSources []struct {
			URI   string `json:"uri"`
			Title string `json:"title"`
		} `json:"citationSources"`
	} `json:"citationMetadata"`
	GroundingMetadata *struct {
		GroundingChunks []struct {
			Web *struct {
				URI   string `json:"uri"`
				Title string `json:"title"`
			} `json:"web"`
		} `json:"groundingChunks"`
	} `json:"groundingMetadata"`
}

type promptFeedback struct {
	BlockReason        string `json:"blockReason"`
	BlockReasonMessage string `json:"blockReasonMessage"`
}

type usageMetadata struct {
	PromptTokenCount        provider.Count `json:"promptTokenCount"`
	CandidatesTokenCount    provider.Count `json:"candidatesTokenCount"`
	TotalTokenCount         provider.Count `json:"totalTokenCount"`
	ThoughtsTokenCount      provider.Count `json:"thoughtsTokenCount"`
	CachedContentTokenCount provider.Count `json:"cachedContentTokenCount"`
}

// modelList is a page of GET {base}/models, but its models, which
// provider.EachModel reads one by one.
type modelList struct {
	NextPageToken string `json:"nextPageToken"`
}

// wireModel is one model of a modelList page.
type wireModel struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// responseKeys are the top-level fields a GenerateContentResponse may
// have; a stream event with none of them is not one.
var responseKeys = []string{"candidates", "promptFeedback", "usageMetadata", "modelVersion", "responseId", "createTime", "modelStatus"}
