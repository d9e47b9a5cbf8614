package imagefile

import "strings"

// DefaultModel is asked for when nothing better is known: the image model
// the seed gateways document.
const DefaultModel = "dall-e-3"

// LooksLikeImageModel reports whether a model name is an image model's.
func LooksLikeImageModel(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"dall-e", "gpt-image", "imagen", "image-", "-image", "flux", "diffusion", "sdxl", "midjourney"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// ModelFor picks the image model when none is named: the current
// model if it looks like an image model, else the first configured model
// that does (the demo gateway's, or one listed in the profile), else
// DefaultModel.
func ModelFor(current string, configured []string) string {
	if LooksLikeImageModel(current) {
		return current
	}
	for _, m := range configured {
		if LooksLikeImageModel(m) {
			return m
		}
	}
	return DefaultModel
}
