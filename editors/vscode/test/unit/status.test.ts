/** The Status dialog's text from an `agent.status` answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus } from '../../src/status';

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
