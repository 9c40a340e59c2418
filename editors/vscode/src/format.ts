// Small text helpers shared by the extension and the transcript page. Pure.

/** US dollars with 4 decimals; '' for none and for a zero cost (a cancelled task's). */
export function money(v: unknown): string {
  return typeof v === 'number' && v > 0 ? `$${v.toFixed(4)}` : '';
}

export function seconds(ms: unknown): string {
  if (typeof ms !== 'number') return '';
  if (ms >= 60000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function esc(s: string | number | undefined): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One line, at most max characters. */
export function short(text: string, max = 60): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : one.slice(0, max - 1) + '…';
}

/** A title from a text: its first line that says something, at most max characters. */
export function firstLine(text: string, max = 80): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return short(line, max);
}
