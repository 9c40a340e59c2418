// The transcript webview's script (bundled by esbuild into dist/webview.js):
// it keeps a Transcript model (../transcript.ts), applies the batches the
// extension posts, and redraws only the blocks a batch changed. Clicks on a
// question's buttons, claude's questions' forms and a plan's choices go back
// to the extension as answers; the composer below sends a message into the
// running task (or follows it up once it ended), with pasted images.

import { FromWebview, PastedImage, ToWebview, Transcript, composerState, firstLine } from '../transcript';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('transcript')!;
let model = new Transcript();
const elements = new Map<string, HTMLElement>();
/** <details> the person opened or closed by hand: their state survives redraws. */
const userOpen = new Map<string, boolean>();

function atBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.body.scrollHeight - 60;
}

function apply(): void {
  const changes = model.takeChanges();
  if (changes.length === 0) return;
  const follow = atBottom();
  for (const c of changes) {
    let el = elements.get(c.key);
    if (!el) {
      el = document.createElement('div');
      // The header's block sticks to the top as the page scrolls (sticky works within the
      // parent, so it is the block, a child of the page's main, that sticks).
      el.className = c.key === 'head' ? 'block head' : 'block';
      el.dataset.key = c.key;
      const prev = c.after === undefined ? undefined : elements.get(c.after);
      if (prev) prev.after(el);
      else root.prepend(el);
      elements.set(c.key, el);
    }
    el.innerHTML = c.html;
    el.hidden = c.html === '';
    for (const d of el.querySelectorAll<HTMLDetailsElement>('details[data-k]')) {
      const k = d.dataset.k!;
      if (userOpen.has(k)) d.open = userOpen.get(k)!;
    }
  }
  if (follow) window.scrollTo(0, document.body.scrollHeight);
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'reset':
      model = new Transcript();
      elements.clear();
      root.replaceChildren();
      // Events first: the end (from the header's result) then follows them and knows the
      // last text, so a finished task's answer shows once, above its end.
      model.addEvents(m.events);
      model.setHeader(m.header);
      model.setQuestions(m.questions);
      document.title = firstLine(m.header.prompt, 100);
      break;
    case 'update':
      model.addEvents(m.events);
      model.setHeader(m.header);
      break;
    case 'questions':
      model.setQuestions(m.questions);
      break;
    case 'sendFailed':
      model.dropSent(m.text);
      break;
  }
  apply();
  updateComposer();
});

/** The answers of claude's questions' form: by question text; a question left blank is left out. */
function collectAnswers(form: Element): Record<string, string> {
  const answers: Record<string, string> = {};
  for (const field of form.querySelectorAll<HTMLFieldSetElement>('fieldset.ask-field')) {
    const picked: string[] = [];
    for (const input of field.querySelectorAll<HTMLInputElement>('input[type=radio], input[type=checkbox]')) {
      if (!input.checked) continue;
      if (input.dataset.other) {
        const text = field.querySelector<HTMLInputElement>('input.other-text')?.value.trim();
        if (text) picked.push(text);
      } else picked.push(input.value);
    }
    // Several: claude's own dialog's form ("Dark mode, Export").
    if (picked.length > 0) answers[field.dataset.q ?? ''] = picked.join(', ');
  }
  return answers;
}

// Typing an answer of your own chooses "Other".
document.addEventListener('input', (e) => {
  const t = e.target as HTMLElement;
  if (t instanceof HTMLInputElement && t.classList.contains('other-text')) {
    const other = t.closest('label')?.querySelector<HTMLInputElement>('input[data-other]');
    if (other) other.checked = t.value.trim() !== '';
  }
});

// --- the composer -------------------------------------------------------------

const composer = document.getElementById('composer') as HTMLElement;
const message = document.getElementById('message') as HTMLTextAreaElement;
const sendButton = document.getElementById('send') as HTMLButtonElement;
const interruptButton = document.getElementById('interrupt') as HTMLButtonElement;
const imageList = document.getElementById('images') as HTMLElement;
const pendingList = document.getElementById('pending') as HTMLElement;
let images: PastedImage[] = [];

function updateComposer(): void {
  const st = composerState(model.header);
  composer.hidden = st.mode === 'none';
  message.placeholder = st.placeholder;
  sendButton.textContent = st.mode === 'followUp' ? 'Follow Up' : 'Send';
  interruptButton.hidden = !st.interrupt;
  const pending = model.pendingHtml();
  if (pendingList.innerHTML !== pending) pendingList.innerHTML = pending;
}

// The composer is fixed at the bottom and grows (sent messages, pasted
// images, a taller box): the page keeps room under the transcript for it.
new ResizeObserver(() => {
  document.body.style.paddingBottom = `${composer.hidden ? 20 : composer.offsetHeight + 20}px`;
}).observe(composer);

function drawImages(): void {
  imageList.replaceChildren(
    ...images.map((img, i) => {
      const chip = document.createElement('span');
      chip.className = 'image-chip';
      const pic = document.createElement('img');
      pic.src = `data:${img.mediaType};base64,${img.data}`;
      pic.alt = img.name ?? 'pasted image';
      const drop = document.createElement('button');
      drop.className = 'secondary';
      drop.textContent = '×';
      drop.title = 'Remove';
      drop.addEventListener('click', () => {
        images.splice(i, 1);
        drawImages();
      });
      chip.append(pic, drop);
      return chip;
    }),
  );
}

message.addEventListener('paste', (e) => {
  for (const item of e.clipboardData?.items ?? []) {
    if (item.kind !== 'file' || !item.type.startsWith('image/')) continue;
    const file = item.getAsFile();
    if (!file) continue;
    e.preventDefault();
    const reader = new FileReader();
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      images.push({ data: url.slice(url.indexOf(',') + 1), mediaType: file.type, name: file.name || undefined });
      drawImages();
    };
    reader.readAsDataURL(file);
  }
});

function send(): void {
  const text = message.value.trim();
  if (!text) {
    // claude takes images with words about them: the bridge wants a prompt.
    message.focus();
    return;
  }
  vscode.postMessage({ type: 'send', text, images });
  // Sent into the running task: shown as sent until claude takes it (a
  // follow-up opens a transcript of its own instead).
  if (composerState(model.header).mode === 'send') {
    model.addSent(text, images.length);
    updateComposer();
  }
  message.value = '';
  images = [];
  drawImages();
}

sendButton.addEventListener('click', send);
interruptButton.addEventListener('click', () => vscode.postMessage({ type: 'interrupt' }));
message.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    send();
  }
});

document.addEventListener('click', (e) => {
  const target = e.target as Element;
  const button = target.closest<HTMLButtonElement>('button[data-answer]');
  if (button) {
    const q = button.closest('.question');
    q?.querySelectorAll('button').forEach((b) => (b.disabled = true));
    vscode.postMessage({ type: 'answer', question: Number(button.dataset.question), answer: button.dataset.answer! });
    return;
  }
  const submit = target.closest<HTMLButtonElement>('button[data-ask-submit]');
  if (submit) {
    const form = submit.closest('.ask-form');
    const answers = form ? collectAnswers(form) : {};
    if (Object.keys(answers).length === 0) return; // nothing chosen yet
    form?.querySelectorAll('button').forEach((b) => (b.disabled = true));
    vscode.postMessage({ type: 'answerAsk', question: Number(submit.dataset.askSubmit), answers });
    return;
  }
  const planButton = target.closest<HTMLButtonElement>('button[data-plan]');
  if (planButton) {
    const form = planButton.closest('.plan-form');
    const feedback = form?.querySelector<HTMLTextAreaElement>('textarea.feedback')?.value.trim();
    form?.querySelectorAll('button[data-plan]').forEach((b) => ((b as HTMLButtonElement).disabled = true));
    const approve = planButton.dataset.decision === 'approve';
    vscode.postMessage({
      type: 'answerPlan',
      question: Number(planButton.dataset.plan),
      result: approve
        ? { decision: 'approve', permissionMode: planButton.dataset.mode === 'default' ? 'default' : 'acceptEdits' }
        : { decision: 'keepPlanning', ...(feedback ? { feedback } : {}) },
    });
    return;
  }
  const review = target.closest<HTMLButtonElement>('button[data-review]');
  if (review) {
    const action = review.dataset.action === 'accept' ? 'accept' : review.dataset.action === 'reject' ? 'reject' : 'open';
    vscode.postMessage({ type: 'review', review: Number(review.dataset.review), action });
    return;
  }
  const changes = target.closest<HTMLElement>('[data-changes]');
  if (changes) {
    e.preventDefault();
    const action = changes.dataset.changes as 'open' | 'revert' | 'accept' | 'revertTask' | 'acceptTask';
    vscode.postMessage({ type: 'changes', action, ...(changes.dataset.uri ? { uri: changes.dataset.uri } : {}) });
    return;
  }
  const showPlan = target.closest<HTMLButtonElement>('button[data-show-plan]');
  if (showPlan) {
    vscode.postMessage({ type: 'showPlan', question: Number(showPlan.dataset.showPlan) });
    return;
  }
  const summary = target.closest('summary');
  const details = summary?.parentElement;
  if (details instanceof HTMLDetailsElement && details.dataset.k) {
    // The click toggles it after this handler: record the state it gets.
    const k = details.dataset.k;
    setTimeout(() => userOpen.set(k, details.open));
  }
});

vscode.postMessage({ type: 'ready' });
