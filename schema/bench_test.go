package schema

import (
	"fmt"
	"strings"
	"testing"
)

// benchAnswer is an answer of n products, every tenth with a price of the
// wrong type when bad is set.
func benchAnswer(n int, bad bool) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		price := fmt.Sprint(i)
		if bad && i%10 == 0 {
			price = `"` + price + `"`
		}
		fmt.Fprintf(&b, `{"name":"product %d","price":%s,"tags":["a","b"]}`, i, price)
	}
	b.WriteString(`]}`)
	return b.String()
}

const benchSchema = `{"type":"object","properties":{"items":{"type":"array","items":{"$ref":"#/$defs/product"}}},
"required":["items"],"additionalProperties":false,
"$defs":{"product":{"type":"object","properties":{"name":{"type":"string"},"price":{"type":"number","minimum":0},
"tags":{"type":"array","items":{"type":"string","maxLength":5}}},"required":["name","price","tags"],"additionalProperties":false}}}`

// BenchmarkCheck measures checking a finished answer, which the chat does
// on its owner's goroutine: a 1 KB and a 100 KB answer, matching and with
// every tenth item in violation.
func BenchmarkCheck(b *testing.B) {
	s, err := Parse("bench", []byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{20, 2000} {
		for _, bad := range []bool{false, true} {
			answer := benchAnswer(n, bad)
			b.Run(fmt.Sprintf("%dKB/violations=%v", len(answer)>>10, bad), func(b *testing.B) {
				b.SetBytes(int64(len(answer)))
				for b.Loop() {
					if r := s.Check(answer); r.OK() == bad {
						b.Fatalf("verdict %v", r.OK())
					}
				}
			})
		}
	}
}

// BenchmarkPretty measures laying out a 100 KB answer for the chat.
func BenchmarkPretty(b *testing.B) {
	answer := benchAnswer(2000, false)
	b.SetBytes(int64(len(answer)))
	for b.Loop() {
		if _, _, ok := Pretty(answer); !ok {
			b.Fatal("not laid out")
		}
	}
}
