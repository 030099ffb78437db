/** Command results and code action arguments: parsed like notifications, malformed ones fail naming the field. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseAcceptResult,
  parseCancelResult,
  parseExportResult,
  parseInlineEditArguments,
  parseSessionList,
  parseSessionRestored,
  parseSessionResult,
  parseStatusResult,
  parseTurnResult,
  ProtocolError,
} from '../../src/protocol';
import { formatStatus } from '../../src/status';

const SESSION = { id: 's1', title: 'Fix tests', created: 1, updated: 2, messageCount: 3, preview: 'fix' };
const RANGE = { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } };

/** `fn` throws a ProtocolError whose message matches `pattern`. */
function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && pattern.test(e.message));
}

test('a turn result gives its turn id; anything else names the command', () => {
  assert.equal(parseTurnResult({ turnId: 't1' }, 'agent.chat'), 't1');
  rejects(() => parseTurnResult(null, 'agent.chat'), /^agent\.chat: expected an object/);
  rejects(() => parseTurnResult({ turnId: 7 }, 'agent.inlineEdit'), /^agent\.inlineEdit: "turnId" must be a string/);
});

test('inlineEdit.accept: applied, or not applied with the reason (a default when none is given)', () => {
  assert.deepEqual(parseAcceptResult({ applied: true }), { applied: true });
  assert.deepEqual(parseAcceptResult({ applied: false, reason: 'the document changed' }), { applied: false, reason: 'the document changed' });
  assert.deepEqual(parseAcceptResult({ applied: false }), { applied: false, reason: 'the editor refused it' });
  rejects(() => parseAcceptResult({}), /agent\.inlineEdit\.accept: "applied" must be true or false/);
  rejects(() => parseAcceptResult({ applied: 'yes' }), /"applied"/);
  rejects(() => parseAcceptResult({ applied: false, reason: 42 }), /"reason" must be a string/);
  rejects(() => parseAcceptResult(undefined), /expected an object/);
});

test('cancel answers whether a turn was stopped', () => {
  assert.equal(parseCancelResult({ cancelled: true }), true);
  assert.equal(parseCancelResult({ cancelled: false }), false);
  rejects(() => parseCancelResult({}), /agent\.cancel: "cancelled" must be true or false/);
  rejects(() => parseCancelResult('cancelled'), /agent\.cancel: expected an object/);
});

test('session.list parses every session, filling what an unreadable one lacks', () => {
  const sessions = parseSessionList({ sessions: [SESSION, { id: 'broken', error: 'unreadable' }] });
  assert.deepEqual(sessions[0], SESSION);
  assert.deepEqual(sessions[1], { id: 'broken', title: '', created: 0, updated: 0, messageCount: 0, preview: '' });
  assert.deepEqual(parseSessionList({ sessions: [] }), []);
  rejects(() => parseSessionList({}), /agent\.session\.list: "sessions" must be a list/);
  rejects(() => parseSessionList({ sessions: { s1: SESSION } }), /"sessions" must be a list/);
  rejects(() => parseSessionList({ sessions: [SESSION, { title: 'no id' }] }), /agent\.session\.list\.sessions\[1\]: "id" must be a string/);
});

test('session.new / save / rename answer one session', () => {
  assert.deepEqual(parseSessionResult({ session: SESSION }, 'agent.session.new'), SESSION);
  rejects(() => parseSessionResult({}, 'agent.session.new'), /agent\.session\.new\.session: expected an object/);
  rejects(() => parseSessionResult({ session: { id: 1 } }, 'agent.session.rename'), /agent\.session\.rename\.session: "id"/);
});

test('session.load answers the session and its transcript', () => {
  const loaded = parseSessionRestored(
    { session: SESSION, transcript: [{ id: 'm1', role: 'user', content: 'hi' }], folder: 'file:///w' },
    'agent.session.load',
  );
  assert.equal(loaded.session.id, 's1');
  assert.equal(loaded.transcript[0].content, 'hi');
  rejects(() => parseSessionRestored([], 'agent.session.load'), /^agent\.session\.load: expected an object/);
  rejects(() => parseSessionRestored({ session: SESSION, transcript: [{ role: 'robot' }] }, 'agent.session.load'), /transcript\[0\].*"role"/);
});

test('session.export answers Markdown', () => {
  assert.equal(parseExportResult({ markdown: '# Fix tests\n' }), '# Fix tests\n');
  rejects(() => parseExportResult({ markdown: null }), /agent\.session\.export: "markdown" must be a string/);
  rejects(() => parseExportResult({}), /"markdown"/);
});

test('status: a full answer from the server is shown line by line', () => {
  const status = parseStatusResult({
    version: '0.1.0',
    provider: 'openai',
    model: 'gpt-x',
    session: SESSION,
    usage: { inputTokens: 100, outputTokens: 20 },
    running: true,
    turns: [{ turnId: 't1', kind: 'chat' }],
    folder: 'file:///w',
    settingsProblems: ['retry.maxAttempts: must be <= 20'],
  });
  assert.deepEqual(formatStatus(status), [
    'Server: agent-lsp 0.1.0',
    'Provider: openai (gpt-x)',
    'Session: Fix tests, 3 messages',
    'Tokens this session: 100 in, 20 out',
    'A turn is running.',
    'Settings problems (defaults used): retry.maxAttempts: must be <= 20',
  ]);
});

test('status: nulls and missing fields are not configured / idle; wrong types fail', () => {
  assert.deepEqual(parseStatusResult({ version: '0.1.0', provider: null, model: null, session: null, usage: null, running: false }), {
    version: '0.1.0',
    provider: null,
    model: null,
    session: null,
    usage: null,
    running: false,
    settingsProblems: [],
    localModel: null,
  });
  assert.equal(parseStatusResult({}).version, '?');
  rejects(() => parseStatusResult({ provider: 5 }), /agent\.status: "provider" must be a string or null/);
  rejects(() => parseStatusResult({ usage: 'lots' }), /agent\.status\.usage: expected an object/);
  rejects(() => parseStatusResult({ usage: { inputTokens: 'many' } }), /agent\.status\.usage: "inputTokens" must be a number/);
  rejects(() => parseStatusResult({ session: { title: 'no id' } }), /agent\.status\.session: "id"/);
  rejects(() => parseStatusResult('ok'), /agent\.status: expected an object/);
  rejects(() => parseStatusResult({ localModel: { id: 'q', name: 'Q', file: '/q', state: 5 } }), /agent\.status\.localModel: "state"/);
});

test('the server code action arguments: a blank instruction means ask the user', () => {
  assert.deepEqual(parseInlineEditArguments({ uri: 'file:///w/a.py', range: RANGE, instruction: 'fix the sign' }), {
    uri: 'file:///w/a.py',
    range: RANGE,
    instruction: 'fix the sign',
  });
  assert.deepEqual(parseInlineEditArguments({ uri: 'file:///w/a.py', range: RANGE }), { uri: 'file:///w/a.py', range: RANGE });
  assert.equal(parseInlineEditArguments({ uri: 'file:///w/a.py', range: RANGE, instruction: '  ' }).instruction, undefined);
  rejects(() => parseInlineEditArguments({ range: RANGE }), /agent\.inlineEdit: "uri" must be a string/);
  rejects(() => parseInlineEditArguments({ uri: 'file:///w/a.py', range: { start: { line: 0 } } }), /agent\.inlineEdit\.range\.start: "character"/);
  rejects(() => parseInlineEditArguments({ uri: 'file:///w/a.py', range: RANGE, instruction: ['fix'] }), /"instruction"/);
  rejects(() => parseInlineEditArguments(undefined), /agent\.inlineEdit: expected an object/);
});

test('status: the completion part is parsed, and wrong types in it fail', () => {
  const completion = { enabled: true, source: 'local', model: 'qwen', endpoint: 'infill', state: 'ready', reason: null, problem: null, shown: 4, accepted: 2, cacheHits: 1 };
  assert.deepEqual(parseStatusResult({ version: '0.1.0', completion }).completion, {
    enabled: true, source: 'local', model: 'qwen', endpoint: 'infill', state: 'ready', reason: null, problem: null, shown: 4, accepted: 2,
  });
  assert.throws(() => parseStatusResult({ version: '0.1.0', completion: { source: 3 } }), ProtocolError);
});
