// Package imagefile saves generated images: it checks that bytes from a
// gateway really are an image and picks their extension, writes them
// under names that never overwrite a file (Save, for the chat's /image and
// for parley image alike), chooses the folder the chat saves into, and
// builds the escape sequences that preview a PNG inline in terminals that
// support it.
package imagefile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
)

// MakeDir creates dir and its parents when missing. Callers make the
// folder before asking the gateway, so a paid generation is not lost to
// an unwritable folder.
func MakeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the image folder %s: %w", dir, err)
	}
	return nil
}

// Saved is one image Save wrote.
type Saved struct {
	Path  string // where it was written: dir joined with a new file name
	Ext   string // its extension, ".png" for a PNG
	Image provider.Image
}

// Save checks that each image's data is an image and writes it in dir as
// BaseName(stamp, n) plus the extension its data calls for, under a name
// no file had (never overwriting one). It stops at the first image that
// is not an image or cannot be written and returns the images saved
// before it with that error, which names the image by its position.
func Save(dir string, stamp time.Time, imgs []provider.Image) ([]Saved, error) {
	var out []Saved
	for i, img := range imgs {
		ext, err := Ext(img.Data)
		if err != nil {
			return out, fmt.Errorf("image %d: %w", i+1, err)
		}
		path, err := WriteUnique(dir, BaseName(stamp, i+1), ext, img.Data)
		if err != nil {
			return out, fmt.Errorf("saving image %d: %w", i+1, err)
		}
		out = append(out, Saved{Path: path, Ext: ext, Image: img})
	}
	return out, nil
}

// Ext checks that data is an image and picks its file extension: PNG
// (fully validated by decoding its header) or, from gateways that send
// another format, what its signature says.
func Ext(data []byte) (string, error) {
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

// BaseName is the file name (without extension) of the index-th image
// (counting from 1) of a generation made at t: parley-YYYYMMDD-HHMMSS-N.
func BaseName(t time.Time, index int) string {
	return fmt.Sprintf("parley-%s-%d", t.Format("20060102-150405"), index)
}

// WriteUnique writes data to dir/base+ext, or base-2, base-3, … when that
// name is taken; it never overwrites a file. It returns the path written.
func WriteUnique(dir, base, ext string, data []byte) (string, error) {
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

// DefaultDir is the folder the chat saves generated images in when none
// is configured: $XDG_PICTURES_DIR/parley when that variable holds an
// absolute path, else ~/Pictures/parley when ~/Pictures exists, else the
// current directory ("."). It only looks; the caller creates the folder.
func DefaultDir(getenv func(string) string) string {
	if d := getenv("XDG_PICTURES_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "parley")
	}
	if home := getenv("HOME"); home != "" && filepath.IsAbs(home) {
		pics := filepath.Join(home, "Pictures")
		if st, err := os.Stat(pics); err == nil && st.IsDir() {
			return filepath.Join(pics, "parley")
		}
	}
	return "."
}

// DescribeDir says where images saved in dir will go on this machine, as a
// noun phrase for help texts ("saves into …"): the absolute folder with the
// home directory written as ~, and "the current directory (…)" when dir is
// the working directory. An empty dir is described as DefaultDir resolves
// it. It only looks; nothing is created.
func DescribeDir(dir string, getenv func(string) string) string {
	if dir == "" {
		dir = DefaultDir(getenv)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	short := abs
	if home := getenv("HOME"); home != "" && filepath.IsAbs(home) {
		home = filepath.Clean(home)
		if rel, err := filepath.Rel(home, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			short = filepath.Join("~", rel)
			if rel == "." {
				short = "~"
			}
		}
	}
	if wd, err := os.Getwd(); err == nil && wd == abs {
		return "the current directory (" + short + ")"
	}
	return short
}

// Inline returns the escape sequence that shows a PNG inline in the
// running terminal (kitty graphics protocol, or iTerm2's inline images as
// also understood by WezTerm), or "" when the terminal is not known to
// support either. getenv reads the environment (os.Getenv, or a map in
// tests).
func Inline(getenv func(string) string, pngData []byte) string {
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
