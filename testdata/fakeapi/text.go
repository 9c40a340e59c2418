package fakeapi

import "strings"

// longTextWords is LongText's vocabulary.
var longTextWords = strings.Fields(`the bridge streams each step of the task back to
the editor while claude reads files edits code and runs commands in the workspace
a small change can touch several packages so the agent checks the tests after
every edit and reports what it found the key helper keeps credentials out of the
environment progress notifications show which tool is running and how long the
request took buffers that are open in the editor receive the edits without losing
unsaved changes when something fails the result explains the reason and the next
step to try`)

// LongText is a deterministic text of the given number of words, in
// sentences of 6 to 17 words with a paragraph break every 5 sentences:
// a long answer for streaming tests. The same count gives the same text.
func LongText(words int) string {
	if words <= 0 {
		return ""
	}
	var b strings.Builder
	state := uint32(2463534242)
	next := func() uint32 { // xorshift32
		state ^= state << 13
		state ^= state >> 17
		state ^= state << 5
		return state
	}
	sentenceLeft := 0
	sentences := 0
	for i := 0; i < words; i++ {
		if sentenceLeft == 0 {
			sentenceLeft = 6 + int(next()%12)
			if i > 0 {
				if sentences%5 == 0 {
					b.WriteString("\n\n")
				} else {
					b.WriteByte(' ')
				}
			}
		} else {
			b.WriteByte(' ')
		}
		w := longTextWords[next()%uint32(len(longTextWords))]
		if b.Len() == 0 || strings.HasSuffix(b.String(), "\n\n") || strings.HasSuffix(b.String(), ". ") {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
		sentenceLeft--
		if sentenceLeft == 0 || i == words-1 {
			b.WriteByte('.')
			sentences++
			sentenceLeft = 0
		}
	}
	return b.String()
}
