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
// Other entry's number or any text that is not a number is an answer of the
// user's own; an empty line asks again.
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
		picked, ok := pickOptions(line, len(q.Options), other, q.MultiSelect)
		switch {
		case !ok:
			return line, nil // text of the user's own
		case picked == nil:
			text, err := u.readLine(ctx, "  Your answer: ")
			if err != nil {
				return "", err
			}
			if text != "" {
				return text, nil
			}
		default:
			labels := make([]string, len(picked))
			for i, n := range picked {
				labels[i] = q.Options[n-1].Label
			}
			return strings.Join(labels, ", "), nil
		}
	}
}

// pickOptions reads an answer as option numbers: ok false when it is not
// numbers (a text answer), picked nil when it is the Other entry, else the
// options chosen (one unless multi).
func pickOptions(line string, options, other int, multi bool) (picked []int, ok bool) {
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 || (!multi && len(fields) > 1) {
		return nil, false
	}
	seen := map[int]bool{}
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > other {
			return nil, false
		}
		if n == other {
			if len(fields) > 1 {
				return nil, false
			}
			return nil, true
		}
		if !seen[n] {
			seen[n] = true
			picked = append(picked, n)
		}
	}
	return picked, true
}
