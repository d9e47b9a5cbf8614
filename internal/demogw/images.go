package demogw

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"image"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxImageSide caps generated images, for speed: larger sizes are scaled
// down to fit, keeping their aspect ratio.
const maxImageSide = 512

// imageLatency is how long an image takes at natural pace.
const imageLatency = 1200 * time.Millisecond

// imageStore keeps the most recent generated images for /v1/files/. It is
// safe for concurrent use and holds at most max images.
type imageStore struct {
	mu    sync.Mutex
	max   int
	order []string
	files map[string][]byte
}

func newImageStore(max int) *imageStore {
	return &imageStore{max: max, files: make(map[string][]byte)}
}

func (st *imageStore) put(id string, data []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.files[id]; !ok {
		st.order = append(st.order, id)
	}
	st.files[id] = data
	for len(st.order) > st.max {
		delete(st.files, st.order[0])
		st.order = st.order[1:]
	}
}

func (st *imageStore) get(id string) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	data, ok := st.files[id]
	return data, ok
}

// imageRequest is the OpenAI images request the demo reads.
type imageRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	Size           string `json:"size"`
	N              int    `json:"n"`
	ResponseFormat string `json:"response_format"`
	Quality        string `json:"quality"`
}

func (s *Server) handleImages(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	key, now, req, ok := readPost[imageRequest](s, w, r)
	if !ok {
		return
	}
	if req.Model == "" {
		req.Model = modelImage
	}
	s.limiter.peek(key, req.Model, now).setHeaders(w.Header())
	bad := func(code, msg string) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", code, msg)
	}
	if req.Model != modelImage {
		writeError(w, http.StatusNotFound, "invalid_request_error", "invalid_model",
			fmt.Sprintf("The model %q is not an image model. Use %s.", req.Model, modelImage))
		return
	}
	if strings.TrimSpace(req.Prompt) == "" {
		bad("missing_prompt", "You must provide a prompt.")
		return
	}
	if len([]rune(req.Prompt)) > 4000 {
		bad("prompt_too_long", "The prompt may be at most 4000 characters.")
		return
	}
	if req.N == 0 {
		req.N = 1
	}
	if req.N < 1 || req.N > 4 {
		bad("invalid_n", "n must be between 1 and 4.")
		return
	}
	if req.Size == "" {
		req.Size = "1024x1024"
	}
	width, height, err := parseSize(req.Size)
	if err != nil {
		bad("invalid_size", err.Error())
		return
	}
	switch req.ResponseFormat {
	case "":
		req.ResponseFormat = "url"
	case "url", "b64_json":
	default:
		bad("invalid_response_format", "response_format must be url or b64_json.")
		return
	}
	v := s.limiter.admit(key, req.Model, now, false)
	v.setHeaders(w.Header())
	if !v.allowed {
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limited",
			"Request queued — waiting for available slot")
		return
	}
	if s.wait(r.Context(), time.Duration(float64(imageLatency)/s.opts.Speed)) != nil {
		return
	}
	type datum struct {
		URL           string `json:"url,omitempty"`
		B64JSON       string `json:"b64_json,omitempty"`
		RevisedPrompt string `json:"revised_prompt"`
	}
	out := struct {
		Created int64   `json:"created"`
		Data    []datum `json:"data"`
	}{Created: now.Unix()}
	for i := range req.N {
		seed := imageSeed(req.Prompt, i)
		data, err := renderPNG(width, height, req.Prompt, seed)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "server_error", "internal_error", "image encoding failed: "+err.Error())
			return
		}
		d := datum{RevisedPrompt: revisedPrompt(req.Prompt, i)}
		if req.ResponseFormat == "b64_json" {
			d.B64JSON = base64.StdEncoding.EncodeToString(data)
		} else {
			id := fmt.Sprintf("img-%016x-%dx%d", seed, width, height)
			s.images.put(id, data)
			d.URL = "http://" + r.Host + "/v1/files/" + id + ".png"
		}
		out.Data = append(out.Data, d)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet) {
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/v1/files/")
	id, ok := strings.CutSuffix(name, ".png")
	var data []byte
	if ok {
		data, ok = s.images.get(id)
	}
	if !ok {
		writeError(w, http.StatusNotFound, "invalid_request_error", "file_not_found",
			fmt.Sprintf("No file named %q (demo images are kept for the %d most recent generations).", name, s.images.max))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(data)
}

// parseSize reads "WxH" and scales it down to fit maxImageSide.
func parseSize(size string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(size)), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 1 || h < 1 || w > 4096 || h > 4096 {
		return 0, 0, fmt.Errorf("invalid size %q: use WIDTHxHEIGHT, e.g. 512x512", size)
	}
	if w > maxImageSide || h > maxImageSide {
		scale := float64(maxImageSide) / float64(max(w, h))
		w = max(1, int(math.Round(float64(w)*scale)))
		h = max(1, int(math.Round(float64(h)*scale)))
	}
	return w, h, nil
}

// imageSeed derives the pattern seed of the i-th image for prompt.
func imageSeed(prompt string, i int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(prompt))))
	h.Write([]byte{byte(i)})
	return h.Sum64()
}

// revisedPrompt says what the demo actually drew.
func revisedPrompt(prompt string, i int) string {
	p := strings.Join(strings.Fields(prompt), " ")
	if r := []rune(p); len(r) > 200 {
		p = string(r[:200]) + "…"
	}
	s := fmt.Sprintf("An abstract composition of soft gradients, glowing circles and gentle waves in %s tones, inspired by: %s",
		paletteName(prompt), p)
	if i > 0 {
		s += fmt.Sprintf(" (variation %d)", i+1)
	}
	return s
}

// paletteHue picks a base hue from words in the prompt, or from its hash.
func paletteHue(prompt string, seed uint64) (float64, string) {
	w := words(prompt)
	switch {
	case hasWord(w, "sunset", "sunrise", "fire", "autumn", "orange"):
		return 18, "warm amber"
	case hasWord(w, "ocean", "sea", "water", "sky", "blue", "wave"):
		return 205, "ocean blue"
	case hasWord(w, "forest", "tree", "leaf", "green", "garden", "spring"):
		return 130, "forest green"
	case hasWord(w, "night", "space", "star", "galaxy", "moon"):
		return 250, "midnight violet"
	case hasWord(w, "rose", "flower", "pink", "love"):
		return 335, "rose pink"
	case hasWord(w, "desert", "sand", "gold"):
		return 42, "golden sand"
	}
	return float64(seed % 360), "mixed"
}

func paletteName(prompt string) string {
	_, name := paletteHue(prompt, imageSeed(prompt, 0))
	return name
}

// blob is a soft glowing circle in the pattern.
type blob struct{ x, y, r, strength float64 }

// renderPNG draws the deterministic pattern for prompt and seed and
// encodes it as PNG.
func renderPNG(width, height int, prompt string, seed uint64) ([]byte, error) {
	img := drawPattern(width, height, prompt, seed)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// drawPattern paints a diagonal gradient between two shades of the
// prompt's hue, a few soft glowing circles in a lighter accent, and a faint
// wave interference pattern over both.
func drawPattern(width, height int, prompt string, seed uint64) *image.NRGBA {
	r := &rng{state: seed}
	hue, _ := paletteHue(prompt, seed)
	hue += float64(r.intn(20)) - 10
	top := hsl(hue, 0.55, 0.62)
	bottom := hsl(hue+35, 0.60, 0.28)
	accent := hsl(hue-40, 0.75, 0.82)
	blobs := make([]blob, 3+r.intn(3))
	for i := range blobs {
		blobs[i] = blob{x: r.float(), y: r.float(), r: 0.12 + 0.25*r.float(), strength: 0.35 + 0.4*r.float()}
	}
	fx, fy := 3+6*r.float(), 3+6*r.float()
	phase := 2 * math.Pi * r.float()
	aspect := float64(width) / float64(height)
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		v := (float64(y) + 0.5) / float64(height)
		for x := range width {
			u := (float64(x) + 0.5) / float64(width)
			t := clamp01(0.75*v + 0.25*u)
			c := mix(top, bottom, t)
			glow := 0.0
			for _, b := range blobs {
				dx, dy := (u-b.x)*aspect, v-b.y
				glow += b.strength * math.Exp(-(dx*dx+dy*dy)/(b.r*b.r))
			}
			c = mix(c, accent, clamp01(glow))
			wave := 0.06 * math.Sin(2*math.Pi*(u*fx+v*fy)+phase) * math.Sin(2*math.Pi*(u*fy-v*fx)*0.5)
			o := img.PixOffset(x, y)
			img.Pix[o+0] = to8(c[0] + wave)
			img.Pix[o+1] = to8(c[1] + wave)
			img.Pix[o+2] = to8(c[2] + wave)
			img.Pix[o+3] = 255
		}
	}
	return img
}

// rgb is a colour with components in [0, 1].
type rgb [3]float64

func mix(a, b rgb, t float64) rgb {
	return rgb{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

func clamp01(f float64) float64 { return math.Max(0, math.Min(1, f)) }

func to8(f float64) uint8 { return uint8(math.Round(clamp01(f) * 255)) }

// hsl converts hue (degrees), saturation and lightness to RGB.
func hsl(h, s, l float64) rgb {
	h = math.Mod(math.Mod(h, 360)+360, 360) / 360
	if s == 0 {
		return rgb{l, l, l}
	}
	q := l * (1 + s)
	if l >= 0.5 {
		q = l + s - l*s
	}
	p := 2*l - q
	channel := func(t float64) float64 {
		t = math.Mod(t+1, 1)
		switch {
		case t < 1.0/6:
			return p + (q-p)*6*t
		case t < 0.5:
			return q
		case t < 2.0/3:
			return p + (q-p)*(2.0/3-t)*6
		}
		return p
	}
	return rgb{channel(h + 1.0/3), channel(h), channel(h - 1.0/3)}
}
