package provider

import (
	"fmt"
	"strings"
)

// Dialect names the wire protocol a gateway speaks. The constants below
// are the only dialects Parley knows; a Dialect read from a config file or
// a flag is checked with ParseDialect before it is used.
type Dialect string

// The dialects Parley speaks.
const (
	// DialectOpenAI is the OpenAI-compatible chat completions protocol.
	DialectOpenAI Dialect = "openai"
	// DialectCuadra is the Cuadra gateway's native REST protocol.
	DialectCuadra Dialect = "cuadra"
	// DialectGemini is Gemini's generateContent protocol.
	DialectGemini Dialect = "gemini"
)

// Dialects lists every dialect, in the order help texts and error messages
// name them.
func Dialects() []Dialect { return []Dialect{DialectOpenAI, DialectCuadra, DialectGemini} }

// ParseDialect returns the dialect called name, or an error that lists the
// known ones.
func ParseDialect(name string) (Dialect, error) { return parseName("dialect", name, Dialects()) }

// ToolsMode says what happens to the tool calls a model makes.
type ToolsMode string

// The tools modes. The zero value behaves as ToolsAsk.
const (
	// ToolsNone offers no tools to the model; calls are only reported.
	ToolsNone ToolsMode = "none"
	// ToolsAsk runs a tool call after the user approves it.
	ToolsAsk ToolsMode = "ask"
	// ToolsAuto runs tool calls at once.
	ToolsAuto ToolsMode = "auto"
)

// ToolsModes lists every tools mode.
func ToolsModes() []ToolsMode { return []ToolsMode{ToolsNone, ToolsAsk, ToolsAuto} }

// ParseToolsMode returns the tools mode called name, or an error that
// lists the known ones.
func ParseToolsMode(name string) (ToolsMode, error) {
	return parseName("tools mode", name, ToolsModes())
}

// OffersTools reports whether requests in this mode offer the model tools.
func (m ToolsMode) OffersTools() bool { return m != ToolsNone }

// parseName returns the entry of known spelled name, or an error naming
// what was asked for and listing the known names.
func parseName[S ~string](what, name string, known []S) (S, error) {
	parts := make([]string, len(known))
	for i, k := range known {
		if string(k) == name {
			return k, nil
		}
		parts[i] = string(k)
	}
	return "", fmt.Errorf("unknown %s %q (one of %s)", what, name, strings.Join(parts, ", "))
}
