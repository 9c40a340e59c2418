package terminal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
)

// AskQuestions implements runner.QuestionAsker: each of claude's questions
// as a numbered menu of its options and a last "Other" entry. A number
// picks an option (several numbers, "1,3", for a multiple choice), the
// Other entry's number then asks for an answer of the user's own, and so
// does any text that is not numbers; numbers that pick nothing (out of
// range, several for one choice, Other with options) and an empty line ask
// again.
func (u *UI) AskQuestions(ctx context.Context, t *runner.Task, req runner.QuestionRequest) (map[string]string, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.beginQuestion()
	answers := map[string]string{}
	for _, q := range req.Questions {
		a, err := u.askOne(ctx, q)
		if err != nil {
			if errors.Is(err, errInputClosed) {
				return answers, "the terminal's input is closed"
			}
			return nil, "the question was withdrawn"
		}
		answers[q.Question] = a
	}
	return answers, ""
}

func (u *UI) askOne(ctx context.Context, q runner.Question) (string, error) {
	head := "? Claude asks"
	if q.Header != "" {
		head += " (" + q.Header + ")"
	}
	fmt.Fprintf(u.err, "%s: %s\n", head, q.Question)
	for i, o := range q.Options {
		line := fmt.Sprintf("  %d. %s", i+1, o.Label)
		if o.Description != "" {
			line += " — " + o.Description
		}
		fmt.Fprintln(u.err, line)
	}
	other := len(q.Options) + 1
	fmt.Fprintf(u.err, "  %d. Other: type your own answer\n", other)
	prompt := fmt.Sprintf("  Answer [1-%d]: ", other)
	if q.MultiSelect {
		prompt = fmt.Sprintf("  Answer with one or more numbers, e.g. 1,3 [1-%d]: ", other)
	}
	for {
		line, err := u.readLine(ctx, prompt)
		if err != nil {
			return "", err
		}
		if line == "" {
			continue
		}
		picked, kind := pickOptions(line, len(q.Options), other, q.MultiSelect)
		switch kind {
		case answerText:
			return line, nil // text of the user's own
		case answerInvalid:
			if q.MultiSelect {
				fmt.Fprintf(u.err, "  %q picks nothing: give numbers from 1 to %d, or %d alone for your own answer.\n", line, other-1, other)
			} else {
				fmt.Fprintf(u.err, "  %q picks nothing: give one number from 1 to %d (%d: your own answer).\n", line, other, other)
			}
		case answerOther:
			text, err := u.readLine(ctx, "  Your answer: ")
			if err != nil {
				return "", err
			}
			if text != "" {
				return text, nil
			}
		case answerOptions:
			labels := make([]string, len(picked))
			for i, n := range picked {
				labels[i] = q.Options[n-1].Label
			}
			return strings.Join(labels, ", "), nil
		}
	}
}

// answerKind is what a line typed at a question's menu is.
type answerKind int

const (
	answerText    answerKind = iota // not numbers: an answer of the user's own
	answerOptions                   // the options picked
	answerOther                     // the Other entry: the user's own answer comes next
	answerInvalid                   // numbers that pick nothing: asked again
)

// pickOptions reads an answer at a menu of options numbered 1 to options,
// and other (options+1) for Other: text when it is not numbers alone, the
// options chosen (one unless multi), the Other entry alone, or invalid
// numbers (out of range, several for one choice, Other with options).
func pickOptions(line string, options, other int, multi bool) (picked []int, kind answerKind) {
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return nil, answerText
	}
	nums := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, answerText
		}
		nums[i] = n
	}
	if !multi && len(nums) > 1 {
		return nil, answerInvalid
	}
	seen := map[int]bool{}
	for _, n := range nums {
		switch {
		case n < 1 || n > other:
			return nil, answerInvalid
		case n == other:
			if len(nums) > 1 {
				return nil, answerInvalid
			}
			return nil, answerOther
		}
		if !seen[n] {
			seen[n] = true
			picked = append(picked, n)
		}
	}
	return picked, answerOptions
}
