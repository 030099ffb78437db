/**
 * "Agent: Restore Checkpoint": the order of questions, and the words shown.
 *
 * Pick a turn (newest first), review what a files restore would do file by file (each opens in
 * the diff editor), choose what to restore (files and conversation, files only, conversation
 * only), and, when files changed since the agent wrote them, whether to overwrite or skip them.
 * The server does the restoring; the conversation comes back through its `agent/sessionRestored`.
 * Prompts and paths come from the user, the model and the workspace: each is made one visible
 * line (`visibleText.ts`) before a quick pick or a message shows it.
 *
 * Pure (the server and the UI are injected), so the flow is unit tested in plain Node.
 */
import type { Checkpoint, FileDiff, RestoreMode, RestoreResult } from './checkpointProtocol';
import { visible } from './visibleText';

/** The server's checkpoint commands. */
export interface CheckpointApi {
  list(): Promise<Checkpoint[]>;
  diff(id: string): Promise<FileDiff[]>;
  restore(argument: { id: string; mode: RestoreMode; force?: boolean; skipConflicts?: boolean }): Promise<RestoreResult>;
}

/** One row of a quick pick and the value it stands for. */
export interface Choice<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

/** The editor UI the flow needs (VS Code's in the extension, a script in tests). */
export interface CheckpointUi {
  /** A quick pick; undefined when it was dismissed. */
  pick<T>(title: string, placeHolder: string, choices: Array<Choice<T>>): Promise<T | undefined>;
  /** Open the diff editor: the file now beside what a restore would write. */
  showDiff(file: FileDiff): Promise<void>;
  info(message: string): void;
}

export const CONTINUE = 'Continue: choose what to restore';
export const MODES: ReadonlyArray<Choice<RestoreMode>> = [
  { label: 'Files and conversation', description: 'both go back to before this turn', value: 'both' },
  { label: 'Files only', description: 'the conversation stays', value: 'files' },
  { label: 'Conversation only', description: 'the files stay as they are', value: 'conversation' },
];
export const OVERWRITE = 'Overwrite them';
export const SKIP = 'Skip those files';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A prompt as one visible line: its first line, `…` when more follow. */
export function promptLine(prompt: string): string {
  const text = prompt.trim();
  const newline = text.indexOf('\n');
  const first = newline < 0 ? text : `${text.slice(0, newline).trim()}…`;
  return first ? visible(first) : '(empty prompt)';
}

/** The quick pick row of a checkpoint. */
export function checkpointChoice(checkpoint: Checkpoint, now: Date): Choice<Checkpoint> {
  const when = new Date(checkpoint.time * 1000);
  const time = when.toDateString() === now.toDateString() ? when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : when.toLocaleString();
  const added = checkpoint.files.reduce((sum, f) => sum + f.added, 0);
  const removed = checkpoint.files.reduce((sum, f) => sum + f.removed, 0);
  const files = checkpoint.files.length ? `${plural(checkpoint.files.length, 'file')} · +${added} -${removed}` : 'no files';
  return {
    label: promptLine(checkpoint.prompt),
    description: `${files} · ${time}`,
    ...(checkpoint.conflicts ? { detail: '$(warning) some files changed since the agent wrote them' } : {}),
    value: checkpoint,
  };
}

/** What restoring would do to a file, in lines: `+3 -1` from its unified diff. */
export function diffCounts(file: FileDiff): string {
  if (file.binary) {
    return 'binary';
  }
  let added = 0;
  let removed = 0;
  for (const line of file.diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) {
      added += 1;
    } else if (line.startsWith('-') && !line.startsWith('---')) {
      removed += 1;
    }
  }
  const change = file.current === null ? 'recreated' : file.before === null ? 'removed' : 'changed';
  return `${change} · +${added} -${removed}`;
}

/** What a restore or an undo did, in one message. */
export function restoreSummary(result: RestoreResult): string {
  const parts: string[] = [];
  if (result.restored.length) {
    parts.push(`restored ${plural(result.restored.length, 'file')} (${result.restored.map((p) => visible(p)).join(', ')})`);
  }
  if (result.conversation) {
    parts.push('the conversation went back');
  }
  for (const skip of result.skipped) {
    parts.push(`skipped ${visible(skip.path)}${skip.reason ? ` (${visible(skip.reason)})` : ''}`);
  }
  return parts.length ? `Agent: ${parts.join('; ')}.` : 'Agent: nothing to restore.';
}

/** Review the files of `checkpoint`: each picked file opens in the diff editor. False: dismissed. */
async function review(checkpoint: Checkpoint, files: FileDiff[], ui: CheckpointUi): Promise<boolean> {
  const title = `Restore to before "${promptLine(checkpoint.prompt)}"`;
  const choices: Array<Choice<FileDiff | typeof CONTINUE>> = [
    { label: CONTINUE, description: `${plural(files.length, 'file')} would change`, value: CONTINUE },
    ...files.map((file) => ({ label: visible(file.path), description: diffCounts(file), value: file })),
  ];
  for (;;) {
    const chosen = await ui.pick(title, 'Pick a file to see its diff, or continue', choices);
    if (chosen === undefined) {
      return false;
    }
    if (chosen === CONTINUE) {
      return true;
    }
    await ui.showDiff(chosen);
  }
}

/**
 * The whole flow; `id` skips the turn pick (the chat view's Restore action). Returns what the
 * server did, or undefined when the user stopped before anything was restored.
 */
export async function restoreCheckpoint(api: CheckpointApi, ui: CheckpointUi, id?: string, now = new Date()): Promise<RestoreResult | undefined> {
  const checkpoints = await api.list();
  let checkpoint: Checkpoint | undefined;
  if (id !== undefined) {
    checkpoint = checkpoints.find((c) => c.id === id);
    if (!checkpoint) {
      ui.info('Agent: that turn has no checkpoint any more.');
      return undefined;
    }
  } else if (!checkpoints.length) {
    ui.info('Agent: no turn to restore in this session yet.');
    return undefined;
  } else {
    const choices = [...checkpoints].reverse().map((c) => checkpointChoice(c, now));
    checkpoint = await ui.pick('Agent: Restore Checkpoint', 'Restore to before which turn?', choices);
    if (!checkpoint) {
      return undefined;
    }
  }
  const files = await api.diff(checkpoint.id);
  if (files.length && !(await review(checkpoint, files, ui))) {
    return undefined;
  }
  const modes = files.length ? [...MODES] : MODES.filter((m) => m.value === 'conversation');
  const mode = await ui.pick(`Restore to before "${promptLine(checkpoint.prompt)}"`, files.length ? 'Restore what?' : 'No file would change: rewind the conversation?', modes);
  if (!mode) {
    return undefined;
  }
  let result = await api.restore({ id: checkpoint.id, mode });
  if (result.conflicts.length && !result.restored.length && !result.conversation) {
    const names = result.conflicts.map((p) => visible(p)).join(', ');
    const answer = await ui.pick(`${plural(result.conflicts.length, 'file')} changed since the agent wrote them: ${names}`, 'Overwrite your changes, or restore the rest?', [
      { label: OVERWRITE, description: 'your later changes to them are lost', value: 'force' as const },
      { label: SKIP, description: 'restore the other files and keep these', value: 'skipConflicts' as const },
    ]);
    if (!answer) {
      ui.info('Agent: nothing restored.');
      return undefined;
    }
    result = await api.restore({ id: checkpoint.id, mode, [answer]: true });
  }
  ui.info(restoreSummary(result));
  return result;
}
