package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// TestImageDataLimits: image data past 20 MiB, or images past 32 MiB
// together, are refused before they are decoded whole (the end-to-end
// test gives the limits by file: a 28 MB request is slow to build and
// parse under -race).
func TestImageDataLimits(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n"
	big := base64.StdEncoding.EncodeToString([]byte(png + strings.Repeat("x", 21<<20)))
	images := func(refs ...lspext.ImageRef) []imageInput {
		var out []imageInput
		for i, r := range refs {
			out = append(out, imageInput{r, fmt.Sprintf("images[%d]", i)})
		}
		return out
	}
	_, err := readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: big, MediaType: "image/png"}))
	if err == nil || !strings.Contains(err.Error(), `claude.run: arguments[0].images[0].data "iVBORw0KGgp4`) || !strings.Contains(err.Error(), "is an image larger than 20 MiB") {
		t.Errorf("21 MiB of data: %v", err)
	}
	half := base64.StdEncoding.EncodeToString([]byte(png + strings.Repeat("x", 17<<20)))
	_, err = readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: half, MediaType: "image/png"}, lspext.ImageRef{Data: half, MediaType: "image/png"}))
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB together") {
		t.Errorf("two images of 17 MiB: %v", err)
	}
	got, err := readImages(context.Background(), "claude.run", images(lspext.ImageRef{Data: base64.StdEncoding.EncodeToString([]byte(png + "ok")), MediaType: "image/jpeg"}))
	if err != nil || len(got) != 1 || got[0].MediaType != "image/png" {
		t.Errorf("a PNG said to be a JPEG: %+v %v (its own type wins)", got, err)
	}
}
