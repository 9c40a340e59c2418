package runner

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// tinyWebP is a 1×1 lossless WebP.
const tinyWebP = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

// TestNewImageDecodesTheHeader: an image is taken by what its content is,
// and only when its header decodes: real PNG, JPEG, GIF and WebP images go
// (a PNG said to be anything else keeps its own type); a file that only
// starts like one (a PNG signature, then noise; a GIF cut after its
// signature; a RIFF header saying WEBP with no image) is refused saying
// so, where claude would have dropped it with a note only the model reads.
func TestNewImageDecodesTheHeader(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	encode := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pngData := encode(func(b *bytes.Buffer) error { return png.Encode(b, img) })
	webp, _ := base64.StdEncoding.DecodeString(tinyWebP)
	for _, c := range []struct {
		name string
		data []byte
		mt   string
	}{
		{"png", pngData, "image/png"},
		{"jpeg", encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) }), "image/jpeg"},
		{"gif", encode(func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) }), "image/gif"},
		{"webp", webp, "image/webp"},
	} {
		got, err := NewImage(c.data)
		if err != nil || got.MediaType != c.mt {
			t.Errorf("%s: %+v %v", c.name, got.MediaType, err)
		}
	}
	noise := strings.Repeat("\x13\x37noise", 200)
	for _, c := range []struct {
		name string
		data string
		want string
	}{
		{"png signature and noise", "\x89PNG\r\n\x1a\n" + noise, "not a valid PNG image"},
		{"png cut in its header", string(pngData[:20]), "not a valid PNG image"},
		{"gif signature only", "GIF89a", "not a valid GIF image"},
		{"jpeg start and noise", "\xff\xd8\xff" + noise, "not a valid JPEG image"},
		{"webp header, no image", "RIFF\x04\x00\x00\x00WEBP", "not a valid WebP image"},
		{"text", "hello, not an image", "not a PNG, JPEG, GIF or WebP image"},
	} {
		if _, err := NewImage([]byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
