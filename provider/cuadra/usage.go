package cuadra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// maxUsageFields bounds the flattened report: a gateway that sends a
// long time series gets its first rows shown, not thousands.
const maxUsageFields = 200

// Usage implements provider.UsageReporter with GET {base}/usage.
func (p *Provider) Usage(ctx context.Context) (*provider.UsageReport, error) {
	var raw json.RawMessage
	if err := p.getJSON(ctx, "usage", &raw); err != nil {
		return nil, err
	}
	return ParseUsage(raw)
}

// ParseUsage builds a report from a usage answer. A top-level array is
// reported under the key "data". Fields lists numbers before text, each
// group in key order, numbers without exponent and whole numbers with
// thousands separators; past maxUsageFields a last row says how many more
// there were.
func ParseUsage(data []byte) (*provider.UsageReport, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("usage: the answer is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		m = map[string]any{"data": v}
	}
	r := &provider.UsageReport{Raw: m}
	var nums, texts []provider.UsageField
	flatten("", m, func(f provider.UsageField) {
		if f.Number {
			nums = append(nums, f)
		} else {
			texts = append(texts, f)
		}
	})
	r.Fields = append(nums, texts...)
	if len(r.Fields) > maxUsageFields {
		r.Fields = append(r.Fields[:maxUsageFields], provider.UsageField{Key: "…", Value: fmt.Sprintf("%d more values", len(r.Fields)-maxUsageFields)})
	}
	return r, nil
}

func flatten(prefix string, v any, add func(provider.UsageField)) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flatten(join(k), x[k], add)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, add)
		}
	case json.Number:
		add(provider.UsageField{Key: prefix, Value: formatNumber(x), Number: true})
	case string:
		add(provider.UsageField{Key: prefix, Value: x})
	case bool:
		add(provider.UsageField{Key: prefix, Value: strconv.FormatBool(x)})
	case nil:
		// A null says nothing worth a row.
	}
}

// formatNumber writes whole numbers with thousands separators and other
// numbers without an exponent.
func formatNumber(n json.Number) string {
	if i, err := n.Int64(); err == nil {
		s := strconv.FormatInt(i, 10)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	}
	if f, err := n.Float64(); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return n.String()
}
