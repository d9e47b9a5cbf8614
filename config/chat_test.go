package config

import "testing"

// TestResolveChatSettings: mouse reporting is off unless the file says
// mouse = true, and Configured says whether a file was read.
func TestResolveChatSettings(t *testing.T) {
	flags := &Flags{BaseURL: ptrTo("https://gw.example/v1")}
	r, err := Resolve(nil, flags, nil)
	if err != nil || r.Mouse || r.Configured {
		t.Fatalf("no file: mouse %v, configured %v (%v)", r.Mouse, r.Configured, err)
	}
	r, err = Resolve(mustParse(t, "mouse = true\n"), flags, nil)
	if err != nil || !r.Mouse || !r.Configured {
		t.Fatalf("mouse = true: mouse %v, configured %v (%v)", r.Mouse, r.Configured, err)
	}
	if _, err := Parse("c.toml", []byte("mouse = \"yes\"\n")); err == nil {
		t.Fatal(`mouse = "yes" was accepted`)
	}
}
