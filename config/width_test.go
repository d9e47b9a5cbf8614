package config

import (
	"strings"
	"testing"
)

// TestMaxWidth: answers are capped at DefaultMaxWidth columns unless
// max_width says otherwise; 0 lifts the cap, and a width outside the
// range is refused with the file's line.
func TestMaxWidth(t *testing.T) {
	flags := &Flags{BaseURL: ptrTo("https://gw.example/v1")}
	r, err := Resolve(nil, flags, nil)
	if err != nil || r.MaxWidth != DefaultMaxWidth {
		t.Fatalf("no file: max width %d (%v), want %d", r.MaxWidth, err, DefaultMaxWidth)
	}
	for _, tt := range []struct {
		file string
		want int
	}{{"max_width = 0\n", 0}, {"max_width = 20\n", 20}, {"max_width = 140\n", 140}, {"max_width = 1000\n", 1000}} {
		r, err := Resolve(mustParse(t, tt.file), flags, nil)
		if err != nil || r.MaxWidth != tt.want {
			t.Errorf("%q: max width %d (%v), want %d", tt.file, r.MaxWidth, err, tt.want)
		}
	}
	for _, bad := range []string{"max_width = -1\n", "max_width = 19\n", "max_width = 1001\n", "theme = \"dark\"\nmax_width = \"wide\"\n"} {
		_, err := Parse("c.toml", []byte(bad))
		if err == nil {
			t.Errorf("%q was accepted", bad)
			continue
		}
		if line := strings.Count(bad, "\n"); !strings.Contains(err.Error(), "c.toml:"+string(rune('0'+line))) {
			t.Errorf("%q: error %q does not name line %d", bad, err, line)
		}
		if !strings.Contains(err.Error(), "max_width") && !strings.Contains(bad, "wide") {
			t.Errorf("%q: error %q does not name max_width", bad, err)
		}
	}
}
