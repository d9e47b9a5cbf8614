package demogw

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCityIn(t *testing.T) {
	for prompt, want := range map[string]string{
		"What's the weather in Rome?":                 "Rome",
		"weather in rome today":                       "Rome",
		"What is the weather like in New York now?":   "New York",
		"in short, what's the weather for São Paulo?": "São Paulo",
		"weather at saint-étienne":                    "Saint-Étienne",
		"What's the weather like today?":              defaultCity,
		"weather for the weekend":                     defaultCity,
		"use a tool":                                  defaultCity,
	} {
		if got := cityIn(prompt); got != want {
			t.Errorf("cityIn(%q) = %q, want %q", prompt, got, want)
		}
	}
}

// TestWeatherToolCallNamesTheCity: the demo model asks get_weather about
// the city the prompt names, in argument fragments that join into it.
func TestWeatherToolCallNamesTheCity(t *testing.T) {
	_, ts := testServer(t, instant())
	body := weatherRequest(true)
	body["messages"] = []map[string]any{{"role": "user", "content": "What's the weather in Rome?"}}
	got, _ := streamChat(t, ts, body)
	var args map[string]string
	if err := json.Unmarshal([]byte(strings.Join(got.toolArgs, "")), &args); err != nil || args["location"] != "Rome" || len(got.toolArgs) < 3 {
		t.Fatalf("arguments %q (%v)", got.toolArgs, err)
	}
}

func TestWeatherIsSteady(t *testing.T) {
	a, err := Weather(t.Context(), `{"location":"Rome"}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Weather(t.Context(), `{"location":"rome"}`)
	c, _ := Weather(t.Context(), `{"location":"Oslo"}`)
	var w map[string]any
	if json.Unmarshal([]byte(a), &w) != nil || w["location"] != "Rome" || w["conditions"] == "" {
		t.Fatalf("Weather = %s", a)
	}
	if strings.Replace(b, `"rome"`, `"Rome"`, 1) != a || c == a {
		t.Fatalf("not steady per city: %s / %s / %s", a, b, c)
	}
	if _, err := Weather(t.Context(), `{}`); err == nil {
		t.Fatal("no location accepted")
	}
}
