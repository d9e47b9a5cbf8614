package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/openai"
	"github.com/parley-chat/parley/sanitize"
)

// defaultImageModel is asked for when no -m is given: the model the seed
// gateway's image reference uses.
const defaultImageModel = "dall-e-3"

// ImageGenerator is a provider that can generate images (the
// OpenAI-compatible dialect).
type ImageGenerator interface {
	GenerateImage(ctx context.Context, req openai.ImageRequest) ([]openai.Image, error)
}

// imageCommand is "parley image PROMPT": generate images, save them, show
// the revised prompt and preview them inline where the terminal can.
func (a *app) imageCommand() *cobra.Command {
	var size, quality, outDir, format string
	var n int
	cmd := &cobra.Command{
		Use:   "image [flags] PROMPT",
		Short: "Generate images from a prompt and save them as files",
		Long: `Generate images (POST {base}/images/generations, OpenAI-compatible gateways) and
save them in --out (default: the current directory) under new file names. The
gateway's revised prompt and the saved paths are printed; in kitty, WezTerm and
iTerm2 the images are also shown inline. -m chooses the image model (default
` + defaultImageModel + `).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prompt := strings.TrimSpace(strings.Join(args, " "))
			if prompt == "" {
				return usageErrorf("the image prompt is empty")
			}
			if n < 1 || n > 10 {
				return usageErrorf("-n must be between 1 and 10")
			}
			if format != "b64_json" && format != "url" {
				return usageErrorf("--format must be b64_json or url, not %q", format)
			}
			ctx := cmd.Context()
			t, err := a.resolve(ctx, cmd, false)
			if err != nil {
				return err
			}
			defer t.close()
			gen, ok := t.provider.(ImageGenerator)
			if !ok {
				return usageErrorf("provider %s speaks the %s dialect, which has no image endpoint: image generation needs an OpenAI-compatible gateway (dialect openai)", t.name, t.dialect)
			}
			model := defaultImageModel
			if cmd.Flags().Changed("model") {
				model = a.f.model
			}
			if outDir == "" {
				outDir = "."
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return failure(fmt.Errorf("cannot create %s: %w", outDir, err))
			}
			stderr := newRedactWriter(a.env.Stderr, a.secret)
			defer stderr.Flush()
			imgs, err := gen.GenerateImage(ctx, openai.ImageRequest{
				Model: model, Prompt: prompt, Size: size, Quality: quality, N: n, ResponseFormat: format,
				Emit: func(ev provider.Event) {
					if r, ok := ev.(provider.Retry); ok {
						verb := "retrying"
						if r.Queued {
							verb = "queued, waiting"
						}
						fmt.Fprintf(stderr, "parley: %s %.1fs: %s\n", verb, r.Wait.Seconds(), sanitize.Line(redact(r.Message, a.secret)))
					}
				},
			})
			out := newRedactWriter(a.env.Stdout, a.secret)
			defer out.Flush()
			saved, serr := a.saveImages(out, imgs, outDir)
			if err == nil {
				err = serr
			}
			if err != nil {
				var ae *provider.APIError
				if errors.As(err, &ae) {
					ae.Redact(a.secret)
					if ae.Kind == provider.KindCanceled {
						return &exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted")}
					}
				}
				if saved > 0 {
					return failure(fmt.Errorf("after saving %d image(s): %w", saved, err))
				}
				return failure(fmt.Errorf("image generation: %w", err))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&size, "size", "", "image size, e.g. 1024x1024, 1792x1024 (gateway default when empty)")
	f.StringVar(&quality, "quality", "", "image quality: standard or hd (gateway default when empty)")
	f.IntVarP(&n, "count", "n", 1, "number of images")
	f.StringVar(&outDir, "out", "", "save images in `DIR` (default: the current directory)")
	f.StringVar(&format, "format", "b64_json", "ask the gateway for b64_json or url")
	return cmd
}

// saveImages validates and writes each image, prints its revised prompt
// and path, and previews it inline when the terminal can. It returns how
// many it saved.
func (a *app) saveImages(out io.Writer, imgs []openai.Image, dir string) (int, error) {
	clean := func(s string) string {
		if a.env.StdoutIsTerminal {
			return sanitize.Line(s)
		}
		return s
	}
	stamp := time.Now().Format("20060102-150405")
	saved := 0
	for i, img := range imgs {
		ext, err := imageExt(img.PNG)
		if err != nil {
			return saved, fmt.Errorf("image %d: %w", i+1, err)
		}
		path, err := writeUnique(dir, fmt.Sprintf("parley-%s-%d", stamp, i+1), ext, img.PNG)
		if err != nil {
			return saved, fmt.Errorf("saving image %d: %w", i+1, err)
		}
		saved++
		if img.RevisedPrompt != "" {
			fmt.Fprintf(out, "revised prompt: %s\n", clean(img.RevisedPrompt))
		}
		if a.env.StdoutIsTerminal && ext == ".png" {
			if seq := inlineImage(a.env.Getenv, img.PNG); seq != "" {
				io.WriteString(out, seq+"\n")
			}
		}
		fmt.Fprintln(out, clean(path))
	}
	return saved, nil
}

// imageExt checks that data is an image and picks its file extension:
// PNG (fully validated by decoding its header) or, from gateways that
// send another format, what its signature says.
func imageExt(data []byte) (string, error) {
	if len(data) == 0 {
		return "", fmt.Errorf("the gateway sent an empty image")
	}
	if _, err := png.DecodeConfig(bytes.NewReader(data)); err == nil {
		return ".png", nil
	} else if bytes.HasPrefix(data, []byte("\x89PNG")) {
		return "", fmt.Errorf("the PNG data is corrupt: %v", err)
	}
	switch http.DetectContentType(data) {
	case "image/jpeg":
		return ".jpg", nil
	case "image/webp":
		return ".webp", nil
	case "image/gif":
		return ".gif", nil
	}
	return "", fmt.Errorf("the gateway's data is not a PNG image (%s)", http.DetectContentType(data))
}

// writeUnique writes data to dir/base+ext, or base-2, base-3, … when that
// name is taken; it never overwrites a file.
func writeUnique(dir, base, ext string, data []byte) (string, error) {
	for i := 1; i < 1000; i++ {
		name := base + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.Write(data)
		cerr := f.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(path)
			return "", err
		}
		return path, nil
	}
	return "", fmt.Errorf("no free file name for %s%s in %s", base, ext, dir)
}

// inlineImage returns the escape sequence that shows a PNG inline in the
// running terminal (kitty graphics protocol, or iTerm2's inline images as
// also understood by WezTerm), or "" when the terminal is not known to
// support either.
func inlineImage(getenv func(string) string, pngData []byte) string {
	enc := base64.StdEncoding.EncodeToString(pngData)
	switch {
	case getenv("TERM") == "xterm-kitty" || getenv("KITTY_WINDOW_ID") != "":
		var b strings.Builder
		const chunk = 4096
		for i := 0; i < len(enc); i += chunk {
			end := min(i+chunk, len(enc))
			more := 0
			if end < len(enc) {
				more = 1
			}
			if i == 0 {
				fmt.Fprintf(&b, "\x1b_Gf=100,a=T,m=%d;%s\x1b\\", more, enc[i:end])
			} else {
				fmt.Fprintf(&b, "\x1b_Gm=%d;%s\x1b\\", more, enc[i:end])
			}
		}
		return b.String()
	case getenv("TERM_PROGRAM") == "iTerm.app" || getenv("TERM_PROGRAM") == "WezTerm":
		return fmt.Sprintf("\x1b]1337;File=inline=1;size=%d;preserveAspectRatio=1:%s\a", len(pngData), enc)
	}
	return ""
}
