/** Transcript rendering: streaming, tool calls, retries, restore, and safety of model output. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../src/protocol';
import { describeStopReason, renderEntry, summarizeArguments, Transcript } from '../../src/transcript';

const usage = { inputTokens: 12, outputTokens: 5 };

function message(partial: Partial<Message> & Pick<Message, 'role'>): Message {
  return { id: '', content: '', toolCalls: [], isError: false, interrupted: false, kind: 'chat', created: 0, ...partial };
}

test('text deltas of one turn grow one assistant block, rendered as markdown', () => {
  const t = new Transcript();
  const started = t.turnStarted({ turnId: 't1', kind: 'chat', prompt: 'Explain' });
  const first = t.textDelta({ turnId: 't1', text: 'Use **bold** and ' });
  const second = t.textDelta({ turnId: 't1', text: '`code`.' });
  assert.equal(started.length, 1);
  assert.deepEqual(first, second, 'the same entry is updated');
  const html = t.rendered(second)[0].html;
  assert.match(html, /<strong>bold<\/strong> and <code>code<\/code>\./);
  assert.equal(t.busy, true);
  assert.equal(t.runningTurn, 't1');
  t.turnEnded({ turnId: 't1', stopReason: 'end_turn', usage });
  assert.equal(t.busy, false);
  assert.match(t.rendered().at(-1)!.html, /12 in · 5 out tokens/);
});

test('model output cannot inject markup into the view', () => {
  const t = new Transcript();
  const ids = t.textDelta({ turnId: 't', text: '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))' });
  const html = t.rendered(ids)[0].html;
  assert.doesNotMatch(html, /<script|<img|href="javascript/);
  assert.match(html, /&lt;script&gt;/);
});

test('a tool call is one compact line that updates in place, and later text starts a new block', () => {
  const t = new Transcript();
  t.turnStarted({ turnId: 't', kind: 'chat', prompt: 'read it' });
  const before = t.textDelta({ turnId: 't', text: 'Reading.' });
  const call = t.toolCall({ turnId: 't', id: 'c1', name: 'read_file', status: 'started', arguments: { path: 'src/a.py' } });
  assert.match(t.rendered(call)[0].html, /read_file<\/span> <span class="args">src\/a\.py/);
  assert.match(t.rendered(call)[0].html, /class="entry tool running"/);
  const done = t.toolCall({ turnId: 't', id: 'c1', name: 'read_file', status: 'finished', output: '1: x = 1', isError: false });
  assert.deepEqual(done, call);
  assert.match(t.rendered(done)[0].html, /class="entry tool ok".*✓/s);
  assert.match(t.rendered(done)[0].html, /1: x = 1/);
  const after = t.textDelta({ turnId: 't', text: 'Done.' });
  assert.notDeepEqual(after, before);
  assert.deepEqual(
    t.all.map((e) => e.kind),
    ['user', 'assistant', 'tool', 'assistant'],
  );
});

test('retries and notices are shown compactly', () => {
  const t = new Transcript();
  const retry = t.retry({ turnId: 't', attempt: 2, maxAttempts: 3, delay: 1.5, reason: 'overloaded (529)' });
  assert.match(t.rendered(retry)[0].html, /Retry 2\/3 in 1\.5 s: overloaded \(529\)/);
  const notice = t.notice({ level: 'error', text: 'No API key: set OPENAI_API_KEY' });
  assert.match(t.rendered(notice)[0].html, /class="entry notice error"/);
});

test('a cancelled turn marks its partial reply interrupted and says Stopped', () => {
  const t = new Transcript();
  t.turnStarted({ turnId: 't', kind: 'chat', prompt: 'long story' });
  const text = t.textDelta({ turnId: 't', text: 'Once upon' });
  const changed = t.turnEnded({ turnId: 't', stopReason: 'cancelled', usage: { inputTokens: 0, outputTokens: 0 } });
  assert.ok(changed.includes(text[0]));
  assert.match(t.rendered(text)[0].html, /\(interrupted\)/);
  assert.match(t.rendered().at(-1)!.html, /Stopped\./);
});

test('a restored session pairs tool results with their calls and hides system messages', () => {
  const t = new Transcript();
  t.restore([
    message({ role: 'system', content: 'You are an agent.' }),
    message({ role: 'user', content: 'What is in a.py?' }),
    message({ role: 'assistant', content: 'Let me look.', toolCalls: [{ id: 'c1', name: 'read_file', arguments: { path: 'a.py' } }] }),
    message({ role: 'tool', toolCallId: 'c1', content: 'boom', isError: true }),
    message({ role: 'assistant', content: 'It failed.' }),
    message({ role: 'user', kind: 'edit_feedback', content: 'Rejected edit: use snake_case' }),
  ]);
  assert.deepEqual(
    t.all.map((e) => e.kind),
    ['user', 'assistant', 'tool', 'assistant', 'notice'],
  );
  const tool = t.all[2];
  assert.equal(tool.kind === 'tool' && tool.status, 'finished');
  assert.match(renderEntry(tool), /class="entry tool error"/);
  assert.equal(t.busy, false);
});

test('helpers: argument summaries are short, normal stop reasons say nothing', () => {
  assert.equal(summarizeArguments({ path: 'a.py', start: 3 }), 'a.py 3');
  assert.equal(summarizeArguments({ command: 'x'.repeat(100) }).length, 60);
  assert.equal(describeStopReason('end_turn'), undefined);
  assert.equal(describeStopReason('cancelled'), 'Stopped.');
  assert.match(describeStopReason('max_tokens')!, /agent\.maxTokens/);
});
