/** Checkpoints: the server's answers parsed, the Restore Checkpoint flow, the chat's Restore actions, escaping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONTINUE,
  OVERWRITE,
  restoreCheckpoint,
  restoreSummary,
  SKIP,
  type CheckpointApi,
  type CheckpointUi,
  type Choice,
} from '../../src/checkpointFlow';
import { parseCheckpointDiff, parseCheckpointList, parseRestoreResult, type Checkpoint, type FileDiff, type RestoreResult } from '../../src/checkpointProtocol';
import { parseStatusResult, ProtocolError } from '../../src/protocol';
import { formatStatus } from '../../src/status';
import { Transcript } from '../../src/transcript';
import { visible } from '../../src/visibleText';

const OLD: Checkpoint = {
  id: 'u1',
  turnId: null,
  time: 1_700_000_000,
  prompt: 'fix add\nand more',
  files: [{ path: 'calc.py', change: 'modified', added: 2, removed: 1, conflict: false }],
  conflicts: false,
  bytes: 40,
};
const NEW: Checkpoint = {
  id: 'u2',
  turnId: 't2',
  time: 1_700_000_100,
  prompt: 'evil \u202eexe.txt\x1b[2J',
  files: [
    { path: 'calc.py', change: 'modified', added: 3, removed: 0, conflict: true },
    { path: 'new.py', change: 'added', added: 4, removed: 0, conflict: false },
  ],
  conflicts: true,
  bytes: 80,
};
const DIFFS: FileDiff[] = [
  { path: 'calc.py', before: 'a\n', current: 'b\n', diff: '--- calc.py\n+++ calc.py\n@@ -1 +1 @@\n-b\n+a\n', binary: false },
  { path: 'new.py', before: null, current: 'x\ny\n', diff: '--- new.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n', binary: false },
];
const NOTHING: RestoreResult = { restored: [], conflicts: [], skipped: [], conversation: false };

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && pattern.test(e.message));
}

/** A scripted server: answers restore calls in order and records every call. */
function server(checkpoints: Checkpoint[], restores: RestoreResult[]): CheckpointApi & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    list: () => {
      calls.push('list');
      return Promise.resolve(checkpoints);
    },
    diff: (id) => {
      calls.push({ diff: id });
      return Promise.resolve(DIFFS);
    },
    restore: (argument) => {
      calls.push({ restore: argument });
      return Promise.resolve(restores.shift() ?? NOTHING);
    },
  };
}

/** A scripted UI: each pick answers with the choice whose label starts with the next answer. */
function ui(answers: (string | undefined)[]): CheckpointUi & { picks: { title: string; labels: string[] }[]; diffs: string[]; messages: string[] } {
  const picks: { title: string; labels: string[] }[] = [];
  const diffs: string[] = [];
  const messages: string[] = [];
  return {
    picks,
    diffs,
    messages,
    pick: <T>(title: string, _placeHolder: string, choices: Array<Choice<T>>) => {
      picks.push({ title, labels: choices.map((c) => c.label) });
      const answer = answers.shift();
      return Promise.resolve(answer === undefined ? undefined : choices.find((c) => c.label.startsWith(answer))?.value);
    },
    showDiff: (file) => {
      diffs.push(file.path);
      return Promise.resolve();
    },
    info: (message) => messages.push(message),
  };
}

test('checkpoint list, diff and restore answers are parsed; malformed ones name the field', () => {
  assert.deepEqual(parseCheckpointList({ checkpoints: [OLD, NEW] }), [OLD, NEW]);
  assert.deepEqual(parseCheckpointList({ checkpoints: [{ id: 'u3' }] })[0], { id: 'u3', turnId: null, time: 0, prompt: '', files: [], conflicts: false, bytes: 0 });
  rejects(() => parseCheckpointList({}), /agent\.checkpoint\.list: "checkpoints" must be a list/);
  rejects(() => parseCheckpointList({ checkpoints: [{ id: 1 }] }), /checkpoints\[0\]: "id" must be a string/);
  rejects(() => parseCheckpointList({ checkpoints: [{ id: 'u', files: [{}] }] }), /checkpoints\[0\]\.files\[0\]: "path" must be a string/);
  assert.deepEqual(parseCheckpointDiff({ files: DIFFS }), DIFFS);
  rejects(() => parseCheckpointDiff({ files: [{ path: 'a', before: 3 }] }), /files\[0\]: "before" must be a string or null/);
  assert.deepEqual(parseRestoreResult({ restored: ['a'], conflicts: [], skipped: [{ path: 'b', reason: 'r' }], conversation: true }), {
    restored: ['a'],
    conflicts: [],
    skipped: [{ path: 'b', reason: 'r' }],
    conversation: true,
  });
  rejects(() => parseRestoreResult({ restored: [1] }), /agent\.checkpoint\.restore\.restored\[0\]: must be a path/);
  rejects(() => parseRestoreResult({ restored: 'a' }), /"restored" must be a list/);
});

test('hostile text is escaped like the server escapes approvals', () => {
  const text = 'a\x1bb\u202ec\r\nd\u200be\u{E0041}\t\u00e9\u{1F600}';
  assert.equal(visible(text), 'a\\x1bb\\u202ec\\r\\nd\\u200be\\U000e0041\t\u00e9\u{1F600}');
  assert.equal(visible(text, true), 'a\\x1bb\\u202ec\nd\\u200be\\U000e0041\t\u00e9\u{1F600}');
  assert.equal(visible('x\ud800y'), 'x\\ud800y', 'a lone surrogate');
});

test('restore: newest turn first, files reviewed in the diff editor, conflicts skipped on request', async () => {
  const api = server([OLD, NEW], [
    { ...NOTHING, conflicts: ['calc.py'] },
    { restored: ['new.py'], conflicts: [], skipped: [{ path: 'calc.py', reason: 'changed since the agent wrote it' }], conversation: true },
  ]);
  const shown = ui(['evil', 'calc.py', 'new.py', CONTINUE, 'Files and conversation', SKIP]);
  const result = await restoreCheckpoint(api, shown);
  assert.deepEqual(shown.picks[0].labels, ['evil \\u202eexe.txt\\x1b[2J', 'fix add…']);
  assert.deepEqual(shown.picks[1].labels, [CONTINUE, 'calc.py', 'new.py']);
  assert.equal(shown.picks[1].title, 'Restore to before "evil \\u202eexe.txt\\x1b[2J"');
  assert.deepEqual(shown.diffs, ['calc.py', 'new.py']);
  assert.deepEqual(shown.picks[4].labels, ['Files and conversation', 'Files only', 'Conversation only']);
  assert.equal(shown.picks[5].title, '1 file changed since the agent wrote them: calc.py');
  assert.deepEqual(shown.picks[5].labels, [OVERWRITE, SKIP]);
  assert.deepEqual(api.calls, [
    'list',
    { diff: 'u2' },
    { restore: { id: 'u2', mode: 'both' } },
    { restore: { id: 'u2', mode: 'both', skipConflicts: true } },
  ]);
  assert.equal(result?.conversation, true);
  assert.deepEqual(shown.messages, ['Agent: restored 1 file (new.py); the conversation went back; skipped calc.py (changed since the agent wrote it).']);
});

test('restore from the chat view skips the turn pick; overwriting conflicts sends force', async () => {
  const api = server([OLD, NEW], [{ ...NOTHING, conflicts: ['calc.py'] }, { ...NOTHING, restored: ['calc.py', 'new.py'] }]);
  const shown = ui([CONTINUE, 'Files only', OVERWRITE]);
  await restoreCheckpoint(api, shown, 'u2');
  assert.equal(shown.picks[0].labels[0], CONTINUE);
  assert.deepEqual(api.calls.at(-1), { restore: { id: 'u2', mode: 'files', force: true } });
  assert.deepEqual(shown.messages, ['Agent: restored 2 files (calc.py, new.py).']);
});

test('a dismissed question restores nothing; an unknown or missing checkpoint is said', async () => {
  for (const answers of [[undefined], ['fix add', undefined], ['fix add', CONTINUE, undefined], ['fix add', CONTINUE, 'Files only', undefined]]) {
    const api = server([OLD, NEW], [{ ...NOTHING, conflicts: ['calc.py'] }]);
    const restores = answers.length === 4 ? 1 : 0; // only the conflict question comes after a restore
    await restoreCheckpoint(api, ui([...answers]));
    assert.equal(api.calls.filter((c) => typeof c === 'object' && c !== null && 'restore' in c).length, restores);
  }
  const missing = ui([]);
  await restoreCheckpoint(server([OLD], []), missing, 'gone');
  assert.deepEqual(missing.messages, ['Agent: that turn has no checkpoint any more.']);
  const empty = ui([]);
  await restoreCheckpoint(server([], []), empty);
  assert.deepEqual(empty.messages, ['Agent: no turn to restore in this session yet.']);
});

test('a turn whose restore would change no file offers only the conversation', async () => {
  const api = server([OLD], [{ ...NOTHING, conversation: true }]);
  api.diff = () => Promise.resolve([]);
  const shown = ui(['fix add', 'Conversation only']);
  await restoreCheckpoint(api, shown);
  assert.deepEqual(shown.picks[1].labels, ['Conversation only']);
  assert.deepEqual(api.calls.at(-1), { restore: { id: 'u1', mode: 'conversation' } });
  assert.equal(restoreSummary(NOTHING), 'Agent: nothing to restore.');
});

test('the chat shows a Restore action on the user turns that have a checkpoint, escaped', () => {
  const t = new Transcript();
  t.restore([
    { id: 'u1', role: 'user', content: 'first', toolCalls: [], isError: false, interrupted: false, kind: 'chat', created: 0 },
    { id: 'u2', role: 'user', content: 'second', toolCalls: [], isError: false, interrupted: false, kind: 'chat', created: 0 },
  ]);
  t.turnStarted({ turnId: 't9', kind: 'chat', prompt: 'third' });
  const changed = t.markCheckpoints([
    { id: 'u1', turnId: null, files: [1, 2] },
    { id: '"><img src=x onerror=alert(1)>', turnId: 't9', files: [] },
  ]);
  assert.equal(changed.length, 2);
  const html = t.rendered(changed).map((e) => e.html);
  assert.match(html[0], /<button class="restore secondary" data-checkpoint="u1"[^>]*>⟲ Restore \(2 files\)<\/button>/);
  assert.match(html[1], /data-checkpoint="&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;"[^>]*>⟲ Restore<\/button>/);
  assert.doesNotMatch(html[1], /<img/);
  assert.deepEqual(t.markCheckpoints([{ id: 'u1', turnId: null, files: [1, 2] }]).length, 1, 'the turn no longer listed loses its action');
});

test('the status shows the checkpoints and their space', () => {
  const status = parseStatusResult({ version: '1', checkpoints: { count: 3, bytes: 1572864, quotaBytes: 314572800 } });
  assert.ok(formatStatus(status).includes('Checkpoints: 3, 1.5 MB of 300.0 MB'));
  assert.ok(!formatStatus(parseStatusResult({ version: '1' })).some((line) => line.startsWith('Checkpoints')));
});
