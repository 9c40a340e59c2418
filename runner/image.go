package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image.DecodeConfig's GIF decoder
	"image/jpeg"  // its JPEG decoder
	"image/png"   // its PNG decoder
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	_ "golang.org/x/image/webp" // its WebP decoder
)

// Limits of the images of one message. claude makes large images smaller
// itself (see message.go); these bound what the bridge holds and writes to
// claude's stdin (base64 makes it a third larger).
const (
	MaxImageBytes  = 20 << 20 // one image
	MaxImagesBytes = 32 << 20 // the images of one message together
	// imageReadTimeout bounds the read of an image file (a hung mount).
	imageReadTimeout = 5 * time.Second
)

// NewImage checks that data is a PNG, JPEG, GIF or WebP image (by its
// content, whatever it is called) of at most MaxImageBytes whose header
// decodes (image.DecodeConfig: the format's header with the image's size,
// not its pixels): a file that only starts like an image (a PNG signature
// followed by anything else) is refused here, where claude would replace
// it with "[Image could not be processed: …]" and tell nobody but the
// model.
func NewImage(data []byte) (Image, error) {
	mt := imageType(data)
	switch {
	case mt == "":
		return Image{}, errors.New("not a PNG, JPEG, GIF or WebP image")
	case len(data) > MaxImageBytes:
		return Image{}, fmt.Errorf("the image is larger than %d MiB", MaxImageBytes>>20)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	var jpegUnsupported jpeg.UnsupportedError
	var pngUnsupported png.UnsupportedError
	switch {
	case errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported):
		// A valid image of a kind Go's decoders do not read (a lossless or
		// arithmetic-coded JPEG): claude may, so it goes.
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return Image{}, fmt.Errorf("not a valid %s image: its header ends early or is not one", imageFormatName(mt))
	case err != nil:
		return Image{}, fmt.Errorf("not a valid %s image: %v", imageFormatName(mt), err)
	case "image/"+format != mt:
		return Image{}, fmt.Errorf("not a valid %s image: it decodes as %s", imageFormatName(mt), format)
	case cfg.Width <= 0 || cfg.Height <= 0:
		return Image{}, fmt.Errorf("not a valid %s image: it is %d×%d pixels", imageFormatName(mt), cfg.Width, cfg.Height)
	}
	return Image{MediaType: mt, Data: data}, nil
}

// imageFormatName names a media type's format for a person ("PNG").
func imageFormatName(mt string) string {
	if mt == "image/webp" {
		return "WebP"
	}
	return strings.ToUpper(strings.TrimPrefix(mt, "image/"))
}

// CheckImages checks that images fit in one message together.
func CheckImages(images []Image) error {
	total := 0
	for _, img := range images {
		total += len(img.Data)
	}
	if total > MaxImagesBytes {
		return fmt.Errorf("the images are larger than %d MiB together", MaxImagesBytes>>20)
	}
	return nil
}

// imageType is an image's media type by its first bytes, "" for none of
// PNG, JPEG, GIF and WebP.
func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp"
	}
	return ""
}

// ReadImage reads an image file (NewImage checks it), refusing what is not
// a regular file (a FIFO would block) or too large, and giving up after
// imageReadTimeout or when ctx ends.
func ReadImage(ctx context.Context, path string) (Image, error) {
	ctx, cancel := context.WithTimeout(ctx, imageReadTimeout)
	defer cancel()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() { // ends when the read does; on a hung mount, when the kernel lets it
		b, err := readRegular(path)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return Image{}, r.err
		}
		return NewImage(r.b)
	case <-ctx.Done():
		return Image{}, errors.New("reading it did not finish in time")
	}
}

func readRegular(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errors.New("no such file")
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case fi.Size() > MaxImageBytes:
		return nil, fmt.Errorf("the image is larger than %d MiB", MaxImageBytes>>20)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxImageBytes+1))
}
