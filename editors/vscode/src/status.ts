/**
 * What "Agent: Status" shows: the answer of `agent.status` as readable lines. Pure (no `vscode`
 * import) so it is unit tested.
 */
import type { StatusResult } from './protocol';

/** One line per fact, for the Status dialog. */
export function formatStatus(status: StatusResult): string[] {
  const lines = [`Server: agent-lsp ${status.version ?? '?'}`, `Provider: ${status.provider ?? 'not configured'}${status.model ? ` (${status.model})` : ''}`];
  if (status.localModel) {
    const { name, file, state, reason } = status.localModel;
    lines.push(`Local model: ${name}, ${state.replace('_', ' ')}${reason ? `: ${reason}` : ''} (${file})`);
  }
  if (status.session) {
    lines.push(`Session: ${status.session.title || 'Untitled'}${status.session.messageCount !== undefined ? `, ${status.session.messageCount} messages` : ''}`);
  }
  if (status.usage) {
    lines.push(`Tokens this session: ${status.usage.inputTokens ?? 0} in, ${status.usage.outputTokens ?? 0} out`);
  }
  lines.push(status.running ? 'A turn is running.' : 'Idle.');
  if (status.settingsProblems?.length) {
    lines.push(`Settings problems (defaults used): ${status.settingsProblems.join('; ')}`);
  }
  return lines;
}
