/** Turn routing: inline-edit turns to the inline controller, everything else to the chat view. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnRouter, type TurnReceiver } from '../../src/turns';

function recorder(log: string[], name: string): TurnReceiver {
  return {
    turnStarted: (e) => log.push(`${name}:start:${e.turnId}`),
    textDelta: (e) => log.push(`${name}:text:${e.text}`),
    notice: (e) => log.push(`${name}:notice:${e.text}`),
    proposal: (e) => log.push(`${name}:proposal:${e.newText}`),
    turnEnded: (e) => log.push(`${name}:end:${e.turnId}`),
  };
}

test('notifications follow the kind announced in turnStarted', () => {
  const log: string[] = [];
  const router = new TurnRouter();
  router.attach({ chat: recorder(log, 'chat'), inlineEdit: recorder(log, 'inline') });
  const counts: number[] = [];
  router.onRunningChanged((n) => counts.push(n));
  router.turnStarted({ turnId: 'c', kind: 'chat', prompt: 'hi' });
  router.turnStarted({ turnId: 'e', kind: 'inlineEdit', prompt: 'edit' });
  router.textDelta({ turnId: 'c', text: 'hello' });
  router.textDelta({ turnId: 'e', text: 'x = 1' });
  router.proposal({ turnId: 'e', uri: 'file:///a', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: 'x = 1' });
  router.turnEnded({ turnId: 'e', stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } });
  router.turnEnded({ turnId: 'c', stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } });
  assert.deepEqual(log, [
    'chat:start:c',
    'inline:start:e',
    'chat:text:hello',
    'inline:text:x = 1',
    'inline:proposal:x = 1',
    'inline:end:e',
    'chat:end:c',
  ]);
  assert.deepEqual(counts, [1, 2, 1, 0]);
  assert.equal(router.running, 0);
});

test('unannounced turns and turn-less notices go to the chat view', () => {
  const log: string[] = [];
  const router = new TurnRouter();
  router.attach({ chat: recorder(log, 'chat'), inlineEdit: recorder(log, 'inline') });
  router.textDelta({ turnId: 'unknown', text: 'late' });
  router.notice({ level: 'warning', text: 'config' });
  assert.deepEqual(log, ['chat:text:late', 'chat:notice:config']);
});

test('reset forgets running turns (the server stopped)', () => {
  const router = new TurnRouter();
  router.turnStarted({ turnId: 'a', kind: 'chat', prompt: '' });
  router.reset();
  assert.equal(router.running, 0);
});
