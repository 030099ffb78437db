/**
 * What "Agent: Status" shows: the answer of `agent.status` as readable lines. Pure (no `vscode`
 * import) so it is unit tested.
 */
import type { CompletionStatus, StatusResult } from './protocol';

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
  if (status.completion !== undefined) {
    lines.push(formatCompletion(status.completion));
  }
  if (status.checkpoints) {
    const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
    const { count, bytes, quotaBytes } = status.checkpoints;
    lines.push(`Checkpoints: ${count}, ${mb(bytes)} of ${mb(quotaBytes)}`);
  }
  if (status.settingsProblems?.length) {
    lines.push(`Settings problems (defaults used): ${status.settingsProblems.join('; ')}`);
  }
  for (const server of status.mcpServers ?? []) {
    const error = server.error ? ` (${server.error})` : '';
    lines.push(`MCP server ${server.name} [${server.source}]: ${server.state}, ${server.tools} tools${error}`);
  }
  if (status.mcpProblems?.length) {
    lines.push(`MCP config problems: ${status.mcpProblems.join('; ')}`);
  }
  return lines;
}

/** One line about completions, for the Status dialog and the status bar item's tooltip. */
export function formatCompletion(completion: CompletionStatus | null | undefined): string {
  if (!completion) {
    return 'Completions: unknown (the server has not said yet).';
  }
  if (!completion.enabled) {
    return `Completions: off${completion.reason ? ` (${completion.reason})` : ''}.`;
  }
  const details = [completion.model, completion.endpoint ? `through ${completion.endpoint}` : null, completion.state]
    .filter((part) => part)
    .join(', ');
  const counts = `${completion.shown ?? 0} shown, ${completion.accepted ?? 0} accepted`;
  const problem = completion.problem ? ` Last problem: ${completion.problem}` : '';
  return `Completions: ${completion.source}${details ? ` (${details})` : ''}; ${counts}.${problem}`;
}

/** What the completions status bar item shows: on/off and the source; clicking toggles. */
export function completionItem(
  wanted: boolean,
  completion: CompletionStatus | null | undefined,
): { text: string; tooltip: string } {
  if (!wanted) {
    return { text: '$(eye-closed) Completions', tooltip: 'Ghost-text completions are off. Click to turn them on.' };
  }
  if (completion && !completion.source) {
    return { text: '$(warning) Completions', tooltip: `${formatCompletion(completion)} Click to turn them off.` };
  }
  // The setting is the truth for on/off; the server may not have read a change yet.
  const shown = completion ? { ...completion, enabled: true, reason: null } : completion;
  return { text: `$(sparkle) ${completion?.source ?? '…'}`, tooltip: `${formatCompletion(shown)} Click to turn them off.` };
}
