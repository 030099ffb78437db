/** The Status dialog's text from an `agent.status` answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionItem, formatCompletion, formatStatus } from '../../src/status';

test('status lines name server, provider, model, session, usage and activity', () => {
  assert.deepEqual(
    formatStatus({
      version: '0.1.0',
      provider: 'openai',
      model: 'gpt-x',
      session: { id: 's', title: 'Refactor', messageCount: 4 },
      usage: { inputTokens: 100, outputTokens: 20 },
      running: false,
    }),
    ['Server: agent-lsp 0.1.0', 'Provider: openai (gpt-x)', 'Session: Refactor, 4 messages', 'Tokens this session: 100 in, 20 out', 'Idle.'],
  );
});

test('a server without a provider says so instead of printing null', () => {
  const lines = formatStatus({ version: '0.1.0', provider: null, running: true });
  assert.equal(lines[1], 'Provider: not configured');
  assert.equal(lines.at(-1), 'A turn is running.');
});

test('settings problems reported by the server are listed', () => {
  const lines = formatStatus({ version: '0.1.0', provider: 'openai', running: false, settingsProblems: ['retry.maxAttempts: must be <= 20'] });
  assert.equal(lines.at(-1), 'Settings problems (defaults used): retry.maxAttempts: must be <= 20');
});

test('the completions line names the source, model, endpoint and counts, or why it is off', () => {
  assert.equal(
    formatCompletion({ enabled: true, source: 'local', model: 'Qwen2.5-Coder', endpoint: 'infill', state: 'ready', shown: 3, accepted: 1 }),
    'Completions: local (Qwen2.5-Coder, through infill, ready); 3 shown, 1 accepted.',
  );
  assert.equal(formatCompletion({ enabled: false, reason: 'completion.enabled is false' }), 'Completions: off (completion.enabled is false).');
  assert.match(formatCompletion({ enabled: true, source: 'openai', problem: 'HTTP 500' }), /Last problem: HTTP 500$/);
  assert.ok(formatStatus({ version: '1', completion: { enabled: true, source: 'openai' } }).some((line) => line.startsWith('Completions: openai')));
});

test('the completions status bar item shows on/off and the source', () => {
  assert.equal(completionItem(false, { enabled: true, source: 'local' }).text, '$(eye-closed) Completions');
  assert.equal(completionItem(true, { enabled: true, source: 'local' }).text, '$(sparkle) local');
  assert.equal(completionItem(true, { enabled: false, reason: 'no completion source' }).text, '$(warning) Completions');
  // Just switched on, before the server read the change: the source it names is shown.
  assert.equal(completionItem(true, { enabled: false, source: 'openai', reason: 'completion.enabled is false' }).text, '$(sparkle) openai');
  assert.match(completionItem(true, null).tooltip, /Click to turn them off/);
});

test('the embedded model shows its name, state, reason and file', () => {
  const lines = formatStatus({
    version: '0.1.0',
    provider: 'local',
    model: 'Qwen2.5-Coder-1.5B-Instruct',
    running: false,
    localModel: { id: 'q', name: 'Qwen2.5-Coder-1.5B-Instruct', file: '/c/m.gguf', state: 'not_installed', reason: 'pip install x' },
  });
  assert.equal(lines[2], 'Local model: Qwen2.5-Coder-1.5B-Instruct, not installed: pip install x (/c/m.gguf)');
  const ready = formatStatus({ version: '0.1.0', provider: 'local', localModel: { id: 'm', name: 'M', file: '/m', state: 'ready', reason: null } });
  assert.equal(ready[2], 'Local model: M, ready (/m)');
});
