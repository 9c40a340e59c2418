package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// claude's AskUserQuestion tool reaches the bridge as a can_use_tool
// request (requires_user_interaction: true) whose input holds the
// questions. Measured on claude 2.1.332: answering allow with
// updatedInput = the input plus "answers": {"<question>": "<answer>"} gives
// the model "Your questions have been answered: "Q"="A", …" when each
// answer is one of the labels (a multiSelect question's labels joined by
// ", " count as labels), "The user answered: … Read the answers carefully"
// when an answer is text of the user's own; some questions may be left
// out. Allowing the input unchanged gives "The user did not answer the
// questions."; a deny gives the model its message as an error result.

func init() { interactive["AskUserQuestion"] = (*Task).askQuestions }

// askQuestions puts the call's questions to the user (QuestionAsker) and
// answers claude with what the user chose.
func (t *Task) askQuestions(ctx context.Context, call toolCall) toolAnswer {
	var in struct {
		Questions []Question `json:"questions"`
	}
	if err := json.Unmarshal(call.Input, &in); err != nil || len(in.Questions) == 0 {
		return toolAnswer{Message: "claude-bridge could not read the questions of this AskUserQuestion call; ask them in your reply instead."}
	}
	req := QuestionRequest{ToolUseID: call.ToolUseID, Questions: in.Questions}
	asker, ok := t.obs.(QuestionAsker)
	if !ok {
		t.emitQuestion(req, nil, "this front end cannot show questions")
		return toolAnswer{Message: "The user cannot be asked questions here; decide yourself, or ask in your reply instead."}
	}
	done := t.waitingFor()
	t.emit(Event{Kind: EventActivity, Message: "Waiting for your answer: " + questionsTitle(req.Questions)})
	answers, reason := asker.AskQuestions(ctx, t, req)
	done()
	if ctx.Err() != nil {
		reason = EndReason(ctx)
		answers = nil
	}
	answers = knownAnswers(req.Questions, answers)
	if len(answers) == 0 {
		if reason == "" {
			reason = "the user gave no answer"
		}
		t.emitQuestion(req, nil, reason)
		return toolAnswer{Message: fmt.Sprintf("The user did not answer the questions (%s). Go on without the answers, or ask in your reply instead.", reason)}
	}
	t.emitQuestion(req, answers, "")
	return toolAnswer{Allow: true, Input: withAnswers(call.Input, answers)}
}

func (t *Task) emitQuestion(req QuestionRequest, answers map[string]string, reason string) {
	if answers == nil {
		answers = map[string]string{}
	}
	t.emit(Event{Kind: EventQuestion, Question: &QuestionEvent{QuestionRequest: req, Answers: answers, Reason: reason}})
}

// questionsTitle names the questions in a progress line: their headers, or
// the first question.
func questionsTitle(qs []Question) string {
	var heads []string
	for _, q := range qs {
		if q.Header != "" {
			heads = append(heads, q.Header)
		}
	}
	if len(heads) == len(qs) {
		return strings.Join(heads, ", ")
	}
	return oneLine(qs[0].Question, 60)
}

// knownAnswers keeps the non-empty answers to questions that were asked:
// one that is a label (or, for a multiSelect question, labels joined by
// ", ") exactly as it is, so that claude reads it as the option it is
// even when the label has spaces at its ends; text of the user's own
// without the blanks around it.
func knownAnswers(qs []Question, answers map[string]string) map[string]string {
	out := map[string]string{}
	for _, q := range qs {
		a, ok := answers[q.Question]
		if !ok {
			continue
		}
		if !isLabels(q, a) {
			a = strings.TrimSpace(a)
		}
		if a != "" {
			out[q.Question] = a
		}
	}
	return out
}

// isLabels reports whether a is one of q's labels, or for a multiSelect
// question several joined by ", " (claude's own dialog's form).
func isLabels(q Question, a string) bool {
	for _, o := range q.Options {
		if o.Label == "" {
			continue
		}
		if a == o.Label || q.MultiSelect && strings.HasPrefix(a, o.Label+", ") && isLabels(q, a[len(o.Label)+2:]) {
			return true
		}
	}
	return false
}

// withAnswers is the call's input with "answers" set (its other fields,
// such as annotations, kept as claude sent them).
func withAnswers(input json.RawMessage, answers map[string]string) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(input, &obj) != nil || obj == nil {
		obj = map[string]json.RawMessage{}
	}
	obj["answers"], _ = json.Marshal(answers)
	b, _ := json.Marshal(obj)
	return b
}

// FormatAnswers lists answers in the order of the questions, for a
// person: "Color: Blue; Features: Dark mode, Export".
func FormatAnswers(qs []Question, answers map[string]string) string {
	var parts []string
	for _, q := range qs {
		if a, ok := answers[q.Question]; ok {
			name := q.Header
			if name == "" {
				name = oneLine(q.Question, 40)
			}
			parts = append(parts, name+": "+a)
		}
	}
	return strings.Join(parts, "; ")
}
