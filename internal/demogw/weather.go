package demogw

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultCity is the city the demo asks about when the prompt names none.
const defaultCity = "Paris"

// cityRE finds "in Rome", "for New York", "at São Paulo": a preposition
// and up to four words after it.
var cityRE = regexp.MustCompile(`(?i)\b(?:in|for|at|of)\s+([\p{L}][\p{L}.'’-]*(?:\s+[\p{L}][\p{L}.'’-]*){0,3})`)

// notCity are words that end a city name ("weather in Rome today") or
// show the phrase is not one ("weather for the weekend").
var notCity = map[string]bool{
	"today": true, "tomorrow": true, "tonight": true, "now": true, "right": true, "please": true,
	"this": true, "next": true, "the": true, "a": true, "an": true, "my": true, "our": true, "your": true,
	"like": true, "currently": true, "at": true, "in": true, "on": true, "and": true, "or": true, "is": true,
	"be": true, "will": true, "weekend": true, "week": true, "morning": true, "evening": true, "general": true,
}

// cityIn returns the city a prompt asks the weather of, title-cased, or
// defaultCity when it names none. The words after "weather" are read
// first, so "in short, what is the weather in Rome" finds Rome.
func cityIn(prompt string) string {
	lower := strings.ToLower(prompt)
	if i := strings.Index(lower, "weather"); i >= 0 {
		if c := firstCity(prompt[i:]); c != "" {
			return c
		}
	}
	if c := firstCity(prompt); c != "" {
		return c
	}
	return defaultCity
}

func firstCity(s string) string {
	for _, m := range cityRE.FindAllStringSubmatch(s, -1) {
		var words []string
		for _, w := range strings.Fields(m[1]) {
			w = strings.TrimRight(w, ".'’-")
			if w == "" || notCity[strings.ToLower(w)] {
				break
			}
			words = append(words, titleCase(w))
		}
		if city := strings.Join(words, " "); city != "" && len(city) <= 40 {
			return city
		}
	}
	return ""
}

// titleCase upper-cases the first letter of w (and of each part of a
// hyphenated name) and lower-cases the rest.
func titleCase(w string) string {
	parts := strings.Split(strings.ToLower(w), "-")
	for i, p := range parts {
		if r, n := utf8.DecodeRuneInString(p); n > 0 {
			parts[i] = string(unicode.ToUpper(r)) + p[n:]
		}
	}
	return strings.Join(parts, "-")
}

// weatherArgs splits the get_weather arguments for city into streaming
// fragments, none of them complete JSON on its own, as real gateways
// stream them.
func weatherArgs(city string) []string {
	b, _ := json.Marshal(map[string]string{"location": city})
	s := string(b)
	var out []string
	for len(s) > 0 {
		n := min(4, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// conditions are the demo's kinds of weather.
var conditions = []string{"sunny", "partly cloudy", "overcast", "light rain", "showers", "clear", "windy", "misty"}

// Weather is the demo's get_weather tool: made-up but steady weather for
// a location (the same city always gets the same answer), as JSON. args
// is the call's JSON arguments ({"location":"Rome"}).
func Weather(_ context.Context, args string) (string, error) {
	var a struct {
		Location string `json:"location"`
	}
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		return "", fmt.Errorf("the arguments are not JSON: %w", err)
	}
	city := strings.TrimSpace(a.Location)
	if city == "" {
		return "", fmt.Errorf("no location given")
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(city)))
	n := h.Sum32()
	out := struct {
		Location     string `json:"location"`
		TemperatureC int    `json:"temperature_c"`
		Conditions   string `json:"conditions"`
		HumidityPct  int    `json:"humidity_pct"`
		WindKPH      int    `json:"wind_kph"`
		Source       string `json:"source"`
	}{city, 4 + int(n%26), conditions[(n/26)%uint32(len(conditions))], 35 + int((n/7)%55), 3 + int((n/11)%30),
		"Parley demo tool (made-up weather, no network)"}
	b, err := json.Marshal(out)
	return string(b), err
}
