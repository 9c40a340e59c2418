// Rendering a task's claude/event stream as a readable transcript (plain
// text with Markdown headings). Pure: the virtual document provider in
// transcriptView.ts re-renders it as events arrive.

import { BridgeEvent, Decision } from './lspExt';
import { TaskRecord } from './tasks';

function s(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

function time(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

export function money(v: unknown): string {
  return typeof v === 'number' ? `$${v.toFixed(4)}` : '';
}

export function seconds(ms: unknown): string {
  return typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '';
}

function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + `… (${text.length - max} more characters)`;
}

const DECISIONS: Record<Decision, string> = {
  allow: 'allowed',
  allowTask: 'allowed for this task',
  deny: 'denied',
};

/** One line (or block) for an event; text and thinking deltas are joined by render(). */
export function describeEvent(ev: BridgeEvent): string {
  switch (ev.kind) {
    case 'queued': {
      const pos = ev.position > 0 ? `, ${ev.position} task(s) ahead` : '';
      return `Queued in ${s(ev.workspaceFolder)}${pos}`;
    }
    case 'started': {
      const parts = [
        ev.model ? `model ${s(ev.model)}` : '',
        ev.permissionMode ? `permission mode ${s(ev.permissionMode)}` : '',
        ev.apiKeySource ? `key from ${s(ev.apiKeySource)}` : '',
        ev.claudeVersion ? `claude ${s(ev.claudeVersion)}` : '',
        ev.sessionId ? `session ${s(ev.sessionId)}` : '',
      ].filter(Boolean);
      return `Started in ${s(ev.cwd)}${parts.length ? ' (' + parts.join(', ') + ')' : ''}`;
    }
    case 'toolUse':
      return `▶ ${s(ev.summary) || s(ev.name)}`;
    case 'toolResult': {
      const head = ev.isError ? `✗ ${s(ev.name)} failed` : `✓ ${s(ev.name)}`;
      const content = s(ev.content).trimEnd();
      return content ? `${head}\n${indent(cut(content, 1500))}` : head;
    }
    case 'permission': {
      const who = ev.automatic ? 'automatically' : 'by you';
      const decision = DECISIONS[ev.decision] ?? s(ev.decision);
      const reason = ev.reason ? ` (${s(ev.reason)})` : '';
      return `Permission: ${s(ev.summary) || s(ev.name)}: ${decision} ${who}${reason}`;
    }
    case 'retry':
      return `Retrying (attempt ${s(ev.attempt)} of ${s(ev.maxRetries)}, in ${seconds(ev.delayMs)}): ${
        ev.errorStatus ? `HTTP ${s(ev.errorStatus)} ` : ''
      }${s(ev.error)}`;
    case 'status':
      return `Note: ${s(ev.message)}`;
    case 'other':
      return `(unrecognised message) ${cut(s(ev.raw), 300)}`;
    case 'result': {
      const facts = [
        s(ev.status),
        seconds(ev.durationMs),
        typeof ev.numTurns === 'number' ? `${ev.numTurns} turn(s)` : '',
        money(ev.costUsd),
      ].filter(Boolean);
      const body = s(ev.result).trimEnd();
      return `Result: ${facts.join(', ')}${body ? '\n' + indent(body) : ''}`;
    }
    default: {
      // A kind newer than this extension.
      const other: { kind: string } = ev;
      return `${other.kind}: ${cut(JSON.stringify(other), 300)}`;
    }
  }
}

/** The whole transcript of a task. */
export function render(t: TaskRecord): string {
  const out: string[] = [];
  out.push(`# Claude task ${t.taskId}`);
  out.push('');
  if (t.followUpOf) out.push(`Follow-up of ${t.followUpOf}`);
  out.push(`Prompt: ${t.prompt}`);
  if (t.workspaceFolder) out.push(`Folder: ${t.workspaceFolder}`);
  out.push(`Status: ${t.status}${t.step && t.status !== 'completed' ? ` (${t.step})` : ''}`);
  out.push(`Started: ${t.startedAt.toLocaleString()}`);
  out.push('');

  // Text and thinking arrive as deltas; join consecutive deltas of one message.
  let open: { kind: string; messageId: string; text: string } | undefined;
  const flush = () => {
    if (!open) return;
    out.push(open.kind === 'text' ? '## Claude' : '## Thinking', '');
    out.push(...open.text.trimEnd().split('\n'), '');
    open = undefined;
  };
  for (const ev of t.events) {
    if (ev.kind === 'text' || ev.kind === 'thinking') {
      const id = s(ev.messageId);
      if (!open || open.kind !== ev.kind || open.messageId !== id) {
        flush();
        open = { kind: ev.kind, messageId: id, text: '' };
      }
      open.text += s(ev.text);
      continue;
    }
    flush();
    out.push(`[#${ev.seq}] ${describeEvent(ev)}`);
  }
  flush();
  for (const c of t.conflicts) {
    out.push(`Edit conflict in ${c.uri}: ${c.message}`);
  }
  if (!t.events.some((e) => e.kind === 'result')) {
    if (t.result) {
      out.push(`Result: ${t.result.status}`);
      out.push(indent(t.result.result));
    } else if (t.failure) {
      out.push('Result: failed');
      out.push(indent(t.failure));
    }
  }
  if (t.seqGaps > 0) out.push(`(${t.seqGaps} gap(s) in the event sequence)`);
  if (t.endedAt) out.push(`Ended: ${time(t.endedAt)}`);
  return out.join('\n') + '\n';
}
