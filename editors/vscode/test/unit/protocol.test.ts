/** Protocol payloads: valid ones parse with defaults filled, malformed ones fail naming the field. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALLOW_ONCE,
  ALLOW_SESSION,
  decisionFor,
  parseInlineEditProposal,
  parseNotice,
  parseSessionRestored,
  parseToolCall,
  parseTurnEnded,
  parseTurnStarted,
  ProtocolError,
  REJECT,
} from '../../src/protocol';

test('turnStarted defaults its kind to chat and keeps the prompt', () => {
  assert.deepEqual(parseTurnStarted({ turnId: 't1', prompt: 'hi' }), { turnId: 't1', kind: 'chat', prompt: 'hi' });
  assert.equal(parseTurnStarted({ turnId: 't2', kind: 'inlineEdit' }).kind, 'inlineEdit');
});

test('a missing or mistyped field is a ProtocolError naming it', () => {
  assert.throws(() => parseTurnStarted({ kind: 'chat' }), (e: Error) => e instanceof ProtocolError && e.message.includes('"turnId"'));
  assert.throws(() => parseToolCall({ turnId: 't', id: 'c', name: 'x', status: 'exploded' }), /"status" must be one of/);
  assert.throws(() => parseInlineEditProposal({ turnId: 't', uri: 'file:///a', newText: 'x', range: { start: { line: 0 } } }), /range\.start.*"character"/);
  assert.throws(() => parseNotice(null), /expected an object/);
});

test('turnEnded tolerates missing usage and turns an empty error into null', () => {
  assert.deepEqual(parseTurnEnded({ turnId: 't', stopReason: 'cancelled', error: '' }), {
    turnId: 't',
    stopReason: 'cancelled',
    usage: { inputTokens: 0, outputTokens: 0 },
    error: null,
  });
});

test('sessionRestored parses the session and every transcript message', () => {
  const restored = parseSessionRestored({
    session: { id: 's1', title: 'Fix tests', created: 1, updated: 2, messageCount: 2, preview: 'fix' },
    transcript: [
      { id: 'm1', role: 'user', content: 'fix it' },
      { id: 'm2', role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'read_file', arguments: { path: 'a.py' } }] },
    ],
  });
  assert.equal(restored.session.title, 'Fix tests');
  assert.equal(restored.transcript[1].toolCalls[0].name, 'read_file');
  assert.equal(restored.transcript[0].kind, 'chat');
  assert.throws(() => parseSessionRestored({ session: { id: 's' }, transcript: [{ role: 'robot' }] }), /transcript\[0\].*"role"/);
});

test('approval buttons map to protocol decisions; dismissing rejects', () => {
  assert.equal(decisionFor(ALLOW_ONCE), 'allow_once');
  assert.equal(decisionFor(ALLOW_SESSION), 'allow_session');
  assert.equal(decisionFor(REJECT), 'reject');
  assert.equal(decisionFor(undefined), 'reject');
});
