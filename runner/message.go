package runner

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// A user message on claude's stdin: {"type": "user", "message": {"role":
// "user", "content": …}, "parent_tool_use_id": null, "session_id": "",
// "uuid"?}. The content is the text, or with images a list of blocks:
// the images first, as the SDKs send them ({"type": "image", "source":
// {"type": "base64", "media_type", "data"}}), then {"type": "text"}.
// Measured on claude 2.1.332: it passes PNG, JPEG, GIF and WebP blocks to
// the API as they are when they are small, re-encodes large ones (a
// 5.9 MB PNG reached the API as a 675 KB JPEG, a 40 MB one in 4.5 s),
// corrects a media type that does not match the data, replaces data it
// cannot decode with a text "[Image could not be processed …]", and adds
// a text block naming where it saved the image. With
// --replay-user-messages it echoes each message, with the uuid it was
// sent with, when it takes it into the conversation (isReplay: true).

// Image is an image sent with a user message.
type Image struct {
	MediaType string // image/png, image/jpeg, image/gif or image/webp
	Data      []byte
}

// UserMessage is a message from the user: a prompt, or a message sent
// into a running turn.
type UserMessage struct {
	Text   string
	Images []Image
}

// content is the message's content field.
func (m UserMessage) content() any {
	if len(m.Images) == 0 {
		return m.Text
	}
	blocks := make([]map[string]any, 0, len(m.Images)+1)
	for _, img := range m.Images {
		blocks = append(blocks, map[string]any{"type": "image", "source": map[string]any{
			"type": "base64", "media_type": img.MediaType, "data": base64.StdEncoding.EncodeToString(img.Data),
		}})
	}
	return append(blocks, map[string]any{"type": "text", "text": m.Text})
}

// line is the stream-json line that sends the message; uuid "" for none.
func (m UserMessage) line(uuid string) []byte {
	msg := map[string]any{
		"type":               "user",
		"message":            map[string]any{"role": "user", "content": m.content()},
		"parent_tool_use_id": nil,
		"session_id":         "",
	}
	if uuid != "" {
		msg["uuid"] = uuid
	}
	b, _ := json.Marshal(msg)
	return b
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
