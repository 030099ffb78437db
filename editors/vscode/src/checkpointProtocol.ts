/**
 * The checkpoint commands of docs/protocol.md ("Checkpoints") as TypeScript types, with the checks
 * that turn the server's untrusted answers into them. Kept beside protocol.ts (whose field checks
 * it uses) so that module stays about the turn protocol. Pure (no `vscode` import).
 */
import { Commands, num, object, oneOf, optionalString, ProtocolError, str, type Obj } from './protocol';

export type RestoreMode = 'both' | 'files' | 'conversation';

/** One file a checkpoint holds: how the turn changed it, and whether it changed since. */
export interface CheckpointFile {
  path: string;
  change: 'added' | 'modified' | 'deleted';
  added: number;
  removed: number;
  conflict: boolean;
}

/** The state before one chat turn of the open session. `id` is the turn's user message id. */
export interface Checkpoint {
  id: string;
  turnId: string | null;
  time: number;
  prompt: string;
  files: CheckpointFile[];
  conflicts: boolean;
  bytes: number;
}

/** What a files restore would do to one file (`before`/`current` null: missing, or binary). */
export interface FileDiff {
  path: string;
  before: string | null;
  current: string | null;
  diff: string;
  binary: boolean;
}

/** The answer of `agent.checkpoint.restore` and `agent.checkpoint.undo`. */
export interface RestoreResult {
  restored: string[];
  conflicts: string[];
  skipped: Array<{ path: string; reason: string }>;
  conversation: boolean;
}

function list(o: Obj, key: string, what: string): unknown[] {
  const value = o[key];
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new ProtocolError(`${what}: "${key}" must be a list`);
  }
  return value as unknown[];
}

function paths(o: Obj, key: string, what: string): string[] {
  return list(o, key, what).map((p, i) => {
    if (typeof p !== 'string') {
      throw new ProtocolError(`${what}.${key}[${i}]: must be a path`);
    }
    return p;
  });
}

function parseFile(value: unknown, what: string): CheckpointFile {
  const o = object(value, what);
  return {
    path: str(o, 'path', what),
    change: oneOf(o, 'change', ['added', 'modified', 'deleted'] as const, what, 'modified'),
    added: num(o, 'added', what, 0),
    removed: num(o, 'removed', what, 0),
    conflict: o.conflict === true,
  };
}

export function parseCheckpoint(value: unknown, what = 'checkpoint'): Checkpoint {
  const o = object(value, what);
  return {
    id: str(o, 'id', what),
    turnId: optionalString(o, 'turnId', what),
    time: num(o, 'time', what, 0),
    prompt: str(o, 'prompt', what, ''),
    files: list(o, 'files', what).map((f, i) => parseFile(f, `${what}.files[${i}]`)),
    conflicts: o.conflicts === true,
    bytes: num(o, 'bytes', what, 0),
  };
}

/** The checkpoints of `agent.checkpoint.list`, oldest first as the server sends them. */
export function parseCheckpointList(value: unknown): Checkpoint[] {
  const what = Commands.checkpointList;
  const o = object(value, what);
  if (!Array.isArray(o.checkpoints)) {
    throw new ProtocolError(`${what}: "checkpoints" must be a list`);
  }
  const checkpoints: unknown[] = o.checkpoints;
  return checkpoints.map((c, i) => parseCheckpoint(c, `${what}.checkpoints[${i}]`));
}

export function parseCheckpointDiff(value: unknown): FileDiff[] {
  const what = Commands.checkpointDiff;
  const o = object(value, what);
  return list(o, 'files', what).map((f, i) => {
    const where = `${what}.files[${i}]`;
    const file = object(f, where);
    return {
      path: str(file, 'path', where),
      before: optionalString(file, 'before', where),
      current: optionalString(file, 'current', where),
      diff: str(file, 'diff', where, ''),
      binary: file.binary === true,
    };
  });
}

export function parseRestoreResult(value: unknown, command: string = Commands.checkpointRestore): RestoreResult {
  const o = object(value, command);
  return {
    restored: paths(o, 'restored', command),
    conflicts: paths(o, 'conflicts', command),
    skipped: list(o, 'skipped', command).map((s, i) => {
      const where = `${command}.skipped[${i}]`;
      const skip = object(s, where);
      return { path: str(skip, 'path', where), reason: str(skip, 'reason', where, '') };
    }),
    conversation: o.conversation === true,
  };
}
