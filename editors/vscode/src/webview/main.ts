// The transcript webview's script (bundled by esbuild into dist/webview.js):
// it keeps a Transcript model (../transcript.ts), applies the batches the
// extension posts, and redraws only the blocks a batch changed. Clicks on a
// question's buttons go back to the extension as answers.

import { FromWebview, ToWebview, Transcript } from '../transcript';

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
      el.className = 'block';
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
      model.setHeader(m.header);
      model.addEvents(m.events);
      model.setQuestions(m.questions);
      document.title = m.header.prompt;
      break;
    case 'update':
      model.setHeader(m.header);
      model.addEvents(m.events);
      break;
    case 'questions':
      model.setQuestions(m.questions);
      break;
  }
  apply();
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
  const summary = target.closest('summary');
  const details = summary?.parentElement;
  if (details instanceof HTMLDetailsElement && details.dataset.k) {
    // The click toggles it after this handler: record the state it gets.
    const k = details.dataset.k;
    setTimeout(() => userOpen.set(k, details.open));
  }
});

vscode.postMessage({ type: 'ready' });
