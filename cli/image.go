package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/imagefile"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
)

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
iTerm2 the images are also shown inline. -m chooses the image model; without it, the
profile's model if it is an image model, else the first image model among
its models, else ` + imagefile.DefaultModel + `.`,
		Args: needsArg("PROMPT", `parley image "a lighthouse at dusk"`),
		RunE: func(cmd *cobra.Command, args []string) error {
			prompt := strings.TrimSpace(strings.Join(args, " "))
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
			gen, ok := t.provider.(provider.ImageGenerator)
			if !ok {
				return usageErrorf("provider %s speaks the %s dialect, which has no image endpoint: image generation needs an OpenAI-compatible gateway (dialect %s)",
					t.name, t.dialect, provider.DialectOpenAI)
			}
			model := imagefile.ModelFor(t.settings.Model, t.models)
			if cmd.Flags().Changed("model") {
				model = a.f.model
			}
			if outDir == "" {
				outDir = "."
			}
			if err := imagefile.MakeDir(outDir); err != nil {
				return failure(err)
			}
			stderr := newRedactWriter(a.env.Stderr, a.secret)
			defer stderr.Flush()
			imgs, err := gen.GenerateImage(ctx, provider.ImageRequest{
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
	_ = cmd.MarkFlagDirname("out")
	a.completeValues(cmd, "size", fixed("1024x1024", "1792x1024", "1024x1792", "512x512", "256x256"))
	a.completeValues(cmd, "quality", fixed("standard", "hd"))
	a.completeValues(cmd, "format", fixed("b64_json", "url"))
	return cmd
}

// saveImages saves the images in dir, then prints each one's revised
// prompt and path and previews it inline when the terminal can. It
// returns how many it saved.
func (a *app) saveImages(out io.Writer, imgs []provider.Image, dir string) (int, error) {
	clean := func(s string) string {
		if a.env.StdoutIsTerminal {
			return sanitize.Line(s)
		}
		return s
	}
	saved, err := imagefile.Save(dir, time.Now(), imgs)
	for _, s := range saved {
		if s.Image.RevisedPrompt != "" {
			fmt.Fprintf(out, "revised prompt: %s\n", clean(s.Image.RevisedPrompt))
		}
		if a.env.StdoutIsTerminal && s.Ext == ".png" {
			if seq := imagefile.Inline(a.env.Getenv, s.Image.Data); seq != "" {
				io.WriteString(out, seq+"\n")
			}
		}
		fmt.Fprintln(out, clean(s.Path))
	}
	return len(saved), err
}
