package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Document returns the JSON document in an answer: the answer without
// surrounding whitespace, and without a Markdown code fence around it
// (some models fence their JSON even when asked for JSON alone).
func Document(answer string) string {
	s := strings.TrimSpace(answer)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") {
		return s
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return s
	}
	inner := strings.TrimRight(s[nl+1:len(s)-3], " \t")
	if !strings.HasSuffix(inner, "\n") && inner != "" {
		return s // the closing fence must be on a line of its own
	}
	return strings.TrimSpace(inner)
}

// Pretty lays out the JSON document doc for reading: two spaces per level,
// one member or element per line, empty objects and arrays as {} and [],
// numbers as written and strings with the same value (escapes may be
// spelled differently; control characters, U+2028 and U+2029 stay
// escaped, so every value keeps to its line). lines maps the JSON Pointer of every value to the line
// (counted from 0) where it starts: for an object member, the line of its
// name. ok is false, and the other results empty, when doc is not exactly
// one JSON value or nests deeper than MaxDepth.
func Pretty(doc string) (text string, lines map[string]int, ok bool) {
	if depth(doc) > MaxDepth {
		return "", nil, false
	}
	p := &prettyPrinter{dec: json.NewDecoder(strings.NewReader(doc)), lines: map[string]int{}}
	p.dec.UseNumber()
	p.lines[""] = 0
	if err := p.value("", 0); err != nil {
		return "", nil, false
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, false
	}
	return p.out.String(), p.lines, true
}

type prettyPrinter struct {
	dec   *json.Decoder
	out   strings.Builder
	line  int
	lines map[string]int
}

func (p *prettyPrinter) newline(depth int) {
	p.out.WriteByte('\n')
	p.line++
	for range depth {
		p.out.WriteString("  ")
	}
}

// value writes the next value of the document, which sits at ptr, nested
// depth levels deep.
func (p *prettyPrinter) value(ptr string, depth int) error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		return p.scalar(tok)
	}
	obj := d == '{'
	if !p.dec.More() {
		if _, err := p.dec.Token(); err != nil {
			return err
		}
		if obj {
			p.out.WriteString("{}")
		} else {
			p.out.WriteString("[]")
		}
		return nil
	}
	if obj {
		p.out.WriteByte('{')
	} else {
		p.out.WriteByte('[')
	}
	for i := 0; p.dec.More(); i++ {
		if i > 0 {
			p.out.WriteByte(',')
		}
		p.newline(depth + 1)
		child := ptr + "/" + strconv.Itoa(i)
		if obj {
			tok, err := p.dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			child = ptr + "/" + escape(name)
			if err := p.scalar(name); err != nil {
				return err
			}
			p.out.WriteString(": ")
		}
		p.lines[child] = p.line
		if err := p.value(child, depth+1); err != nil {
			return err
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return err
	}
	p.newline(depth)
	if obj {
		p.out.WriteByte('}')
	} else {
		p.out.WriteByte(']')
	}
	return nil
}

// scalar writes a string, number, boolean or null token as JSON; strings
// keep non-ASCII text as it is.
func (p *prettyPrinter) scalar(tok json.Token) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tok); err != nil {
		return err
	}
	p.out.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}
