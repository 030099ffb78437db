/**
 * The chat transcript: what the chat view shows, built from a restored session and from the
 * server's streaming notifications, and rendered to HTML.
 *
 * Rendering happens here, in the extension host, rather than in the webview so that it is unit
 * tested in plain Node and the webview stays a dumb list of HTML blocks (`upsert` by id). Markdown
 * goes through markdown-it with raw HTML disabled: model output can never inject markup or script
 * into the view. Pure (no `vscode` import).
 */
import MarkdownIt from 'markdown-it';
import type {
  Message,
  NoticeEvent,
  RetryEvent,
  TextDelta,
  ToolCallEvent,
  TurnEndedEvent,
  TurnStarted,
} from './protocol';

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

export type Entry =
  | {
      kind: 'user';
      id: string;
      text: string;
      /** The message id (a restored message) or the turn id (a turn sent here) a checkpoint names. */
      messageId?: string;
      turnId?: string;
      /** The checkpoint before this turn, when the server keeps one: its id and how many files. */
      checkpoint?: { id: string; files: number };
    }
  | { kind: 'assistant'; id: string; turnId: string; text: string; interrupted: boolean }
  | {
      kind: 'tool';
      id: string;
      name: string;
      arguments: unknown;
      status: 'started' | 'running' | 'finished';
      output?: string;
      isError: boolean;
    }
  | { kind: 'retry'; id: string; attempt: number; maxAttempts: number; delay: number; reason: string }
  | { kind: 'notice'; id: string; level: 'info' | 'warning' | 'error'; text: string }
  | { kind: 'turnEnd'; id: string; stopReason: string; inputTokens: number; outputTokens: number; error?: string | null };

/** One rendered block of the view. */
export interface RenderedEntry {
  id: string;
  html: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A one-line summary of tool arguments: the first string values, shortened. */
export function summarizeArguments(args: unknown, limit = 60): string {
  if (args === undefined || args === null) {
    return '';
  }
  if (typeof args === 'string' || typeof args === 'number' || typeof args === 'boolean') {
    return shorten(String(args), limit);
  }
  if (typeof args !== 'object') {
    return '';
  }
  const all: unknown[] = Object.values(args);
  const values = all
    .filter((v): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map((v) => String(v).replace(/\s+/g, ' '));
  return shorten(values.join(' '), limit);
}

function shorten(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Human words for a server stop reason; undefined for a normal end (nothing to show). */
export function describeStopReason(stopReason: string): string | undefined {
  switch (stopReason) {
    case 'end_turn':
    case 'stop':
    case 'completed':
      return undefined;
    case 'cancelled':
      return 'Stopped.';
    case 'max_tokens':
      return 'The reply hit the token limit (agent.maxTokens).';
    case 'max_rounds':
      return 'The turn hit the tool round limit (agent.maxRounds).';
    case 'error':
      return 'The turn failed.';
    default:
      return `Turn ended: ${stopReason}.`;
  }
}

/** Render one entry to HTML (safe: every string is escaped or goes through markdown-it). */
export function renderEntry(entry: Entry): string {
  switch (entry.kind) {
    case 'user': {
      const restore = entry.checkpoint
        ? `<button class="restore secondary" data-checkpoint="${escapeHtml(entry.checkpoint.id)}" ` +
          `title="Restore the files and/or the conversation to before this turn">⟲ Restore` +
          `${entry.checkpoint.files ? ` (${entry.checkpoint.files} file${entry.checkpoint.files === 1 ? '' : 's'})` : ''}</button>`
        : '';
      return `<div class="entry user"><div class="role">You${restore}</div><div class="body">${markdown.render(entry.text)}</div></div>`;
    }
    case 'assistant': {
      const note = entry.interrupted ? '<div class="note">(interrupted)</div>' : '';
      return `<div class="entry assistant"><div class="body markdown">${markdown.render(entry.text)}</div>${note}</div>`;
    }
    case 'tool': {
      const icon = entry.status !== 'finished' ? '⋯' : entry.isError ? '✗' : '✓';
      const state = entry.status !== 'finished' ? 'running' : entry.isError ? 'error' : 'ok';
      const args = JSON.stringify(entry.arguments ?? {}, null, 2);
      const output = entry.output !== undefined ? `<pre class="output">${escapeHtml(shorten(entry.output, 4000))}</pre>` : '';
      return (
        `<details class="entry tool ${state}"><summary><span class="icon">${icon}</span> ` +
        `<span class="name">${escapeHtml(entry.name)}</span> <span class="args">${escapeHtml(summarizeArguments(entry.arguments))}</span>` +
        `</summary><pre class="arguments">${escapeHtml(args)}</pre>${output}</details>`
      );
    }
    case 'retry':
      return (
        `<div class="entry retry">↻ Retry ${entry.attempt}/${entry.maxAttempts} in ${formatSeconds(entry.delay)}` +
        `${entry.reason ? `: ${escapeHtml(entry.reason)}` : ''}</div>`
      );
    case 'notice':
      return `<div class="entry notice ${entry.level}">${markdown.render(entry.text)}</div>`;
    case 'turnEnd': {
      const words = entry.error ? `Error: ${entry.error}` : describeStopReason(entry.stopReason);
      const usage =
        entry.inputTokens || entry.outputTokens ? `<span class="usage">${entry.inputTokens} in · ${entry.outputTokens} out tokens</span>` : '';
      const cls = entry.error ? 'error' : entry.stopReason === 'cancelled' ? 'cancelled' : '';
      return `<div class="entry turn-end ${cls}">${words ? `<span class="reason">${escapeHtml(words)}</span> ` : ''}${usage}</div>`;
    }
  }
}

function formatSeconds(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/**
 * The ordered entries of the open session plus the running turns' streaming state. Every
 * mutator returns the ids of the entries it changed, so the view only re-sends those.
 */
export class Transcript {
  private entries: Entry[] = [];
  private byId = new Map<string, Entry>();
  private counter = 0;
  /** Turns started here (chat kind) and still running. */
  private running = new Set<string>();
  /** Per turn: the assistant entry that text deltas currently append to. */
  private openText = new Map<string, string>();

  get all(): readonly Entry[] {
    return this.entries;
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /** The most recent running chat turn (what Stop cancels). */
  get runningTurn(): string | undefined {
    return [...this.running].pop();
  }

  rendered(ids?: string[]): RenderedEntry[] {
    const list = ids ? ids.map((id) => this.byId.get(id)).filter((e): e is Entry => e !== undefined) : this.entries;
    return list.map((e) => ({ id: e.id, html: renderEntry(e) }));
  }

  clear(): void {
    this.entries = [];
    this.byId.clear();
    this.running.clear();
    this.openText.clear();
  }

  /** Replace everything with a restored session's messages. */
  restore(messages: Message[]): void {
    this.clear();
    for (const message of messages) {
      this.addMessage(message);
    }
  }

  private add(entry: Entry): string {
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    return entry.id;
  }

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter}`;
  }

  private addMessage(message: Message): void {
    if (message.role === 'system') {
      return;
    }
    if (message.kind === 'omission' || message.kind === 'summary') {
      this.add({ kind: 'notice', id: this.nextId('n'), level: 'info', text: message.content || 'Earlier messages were left out.' });
      return;
    }
    if (message.kind === 'edit_feedback') {
      this.add({ kind: 'notice', id: this.nextId('n'), level: 'info', text: message.content });
      return;
    }
    if (message.role === 'user') {
      this.add({ kind: 'user', id: this.nextId('u'), text: message.content, ...(message.id ? { messageId: message.id } : {}) });
      return;
    }
    if (message.role === 'assistant') {
      if (message.content) {
        this.add({ kind: 'assistant', id: this.nextId('a'), turnId: '', text: message.content, interrupted: message.interrupted });
      }
      for (const call of message.toolCalls) {
        this.add({ kind: 'tool', id: `tool-${call.id || this.nextId('t')}`, name: call.name, arguments: call.arguments, status: 'started', isError: false });
      }
      return;
    }
    // role === 'tool': attach the result to its call.
    const entry = this.byId.get(`tool-${message.toolCallId ?? ''}`);
    if (entry && entry.kind === 'tool') {
      entry.status = 'finished';
      entry.output = message.content;
      entry.isError = message.isError || message.interrupted;
    }
  }

  turnStarted(event: TurnStarted): string[] {
    this.running.add(event.turnId);
    return event.prompt ? [this.add({ kind: 'user', id: this.nextId('u'), text: event.prompt, turnId: event.turnId })] : [];
  }

  textDelta(event: TextDelta): string[] {
    const openId = this.openText.get(event.turnId);
    const open = openId ? this.byId.get(openId) : undefined;
    if (open && open.kind === 'assistant') {
      open.text += event.text;
      return [open.id];
    }
    const id = this.add({ kind: 'assistant', id: this.nextId('a'), turnId: event.turnId, text: event.text, interrupted: false });
    this.openText.set(event.turnId, id);
    return [id];
  }

  toolCall(event: ToolCallEvent): string[] {
    // Text after a tool call starts a new block below it.
    this.openText.delete(event.turnId);
    const id = `tool-${event.id}`;
    const existing = this.byId.get(id);
    if (existing && existing.kind === 'tool') {
      existing.status = event.status;
      if (event.arguments !== undefined) {
        existing.arguments = event.arguments;
      }
      if (event.output !== undefined) {
        existing.output = event.output;
      }
      existing.isError = event.isError ?? existing.isError;
      return [id];
    }
    return [
      this.add({ kind: 'tool', id, name: event.name, arguments: event.arguments, status: event.status, output: event.output, isError: event.isError ?? false }),
    ];
  }

  retry(event: RetryEvent): string[] {
    this.openText.delete(event.turnId);
    return [this.add({ kind: 'retry', id: this.nextId('r'), attempt: event.attempt, maxAttempts: event.maxAttempts, delay: event.delay, reason: event.reason })];
  }

  notice(event: NoticeEvent): string[] {
    if (event.turnId) {
      this.openText.delete(event.turnId);
    }
    return [this.add({ kind: 'notice', id: this.nextId('n'), level: event.level, text: event.text })];
  }

  /**
   * Put a Restore action on every user turn that has a checkpoint (matched by message id, or by
   * turn id for a turn sent in this window) and take it off the others; returns the changed ids.
   */
  markCheckpoints(checkpoints: ReadonlyArray<{ id: string; turnId: string | null; files: readonly unknown[] }>): string[] {
    const byId = new Map(checkpoints.map((c) => [c.id, c]));
    const byTurn = new Map(checkpoints.filter((c) => c.turnId).map((c) => [c.turnId, c]));
    const changed: string[] = [];
    for (const entry of this.entries) {
      if (entry.kind !== 'user') {
        continue;
      }
      const found = (entry.messageId && byId.get(entry.messageId)) || (entry.turnId && byTurn.get(entry.turnId)) || undefined;
      const mark = found ? { id: found.id, files: found.files.length } : undefined;
      if (JSON.stringify(mark) !== JSON.stringify(entry.checkpoint)) {
        entry.checkpoint = mark;
        changed.push(entry.id);
      }
    }
    return changed;
  }

  turnEnded(event: TurnEndedEvent): string[] {
    this.running.delete(event.turnId);
    const changed: string[] = [];
    const openId = this.openText.get(event.turnId);
    const open = openId ? this.byId.get(openId) : undefined;
    if (open && open.kind === 'assistant' && (event.stopReason === 'cancelled' || event.error)) {
      open.interrupted = true;
      changed.push(open.id);
    }
    this.openText.delete(event.turnId);
    changed.push(
      this.add({
        kind: 'turnEnd',
        id: this.nextId('e'),
        stopReason: event.stopReason,
        inputTokens: event.usage.inputTokens,
        outputTokens: event.usage.outputTokens,
        error: event.error,
      }),
    );
    return changed;
  }
}
