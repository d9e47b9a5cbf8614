package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// maxArgsBytes bounds the arguments of one call that are parsed and
// validated; a model's arguments are a few hundred bytes.
const maxArgsBytes = 4 << 20

// compileSchema resolves a tool's parameters schema for validation; nil
// when the tool declares none.
func compileSchema(params json.RawMessage) (*jsonschema.Resolved, error) {
	if len(params) == 0 {
		return nil, nil
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(params, &s); err != nil {
		return nil, fmt.Errorf("the parameters are not a JSON schema: %w", err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("the parameters are not a usable JSON schema: %w", err)
	}
	return rs, nil
}

// ParseArguments reads a call's arguments: a JSON object (an empty string
// is the empty object).
func ParseArguments(args string) (map[string]any, error) {
	if strings.TrimSpace(args) == "" {
		return map[string]any{}, nil
	}
	if len(args) > maxArgsBytes {
		return nil, fmt.Errorf("the arguments are larger than %d MB", maxArgsBytes>>20)
	}
	var v any
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		return nil, fmt.Errorf("the arguments are not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the arguments must be a JSON object")
	}
	return obj, nil
}

// validate checks args against a resolved schema (nil accepts any object).
func validate(rs *jsonschema.Resolved, args string) error {
	obj, err := ParseArguments(args)
	if err != nil {
		return err
	}
	if rs == nil {
		return nil
	}
	if err := rs.Validate(obj); err != nil {
		return errors.New(cleanSchemaError(err.Error()))
	}
	return nil
}

// cleanSchemaError shortens the validator's message to what a person
// needs: it leads with "validating root: " and internal paths.
func cleanSchemaError(s string) string {
	s = strings.TrimPrefix(s, "validating root: ")
	s = strings.TrimPrefix(s, "validating /: ")
	return s
}
