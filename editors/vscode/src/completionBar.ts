/**
 * The completions status bar item: ghost text on or off and where it comes from; a click toggles
 * `agent.completion.enabled` (the server then answers inline completion requests, or not).
 *
 * On/off is the user's setting, known at once; the source, model and counts come from the
 * server's `agent.status`, asked again when the server starts and when a completion setting
 * changes.
 */
import * as vscode from 'vscode';
import type { CompletionStatus, StatusResult } from './protocol';
import { completionItem } from './status';

export const TOGGLE_COMMAND = 'agentLsp.toggleCompletion';

export class CompletionBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('agentLsp.completion', vscode.StatusBarAlignment.Right, 99);
  private last: CompletionStatus | null = null;

  constructor(private readonly status: () => Promise<StatusResult>) {
    this.item.name = 'Agent completions';
    this.item.command = TOGGLE_COMMAND;
    this.render();
    this.item.show();
  }

  private wanted(): boolean {
    return vscode.workspace.getConfiguration('agent').get<boolean>('completion.enabled', true);
  }

  private render(): void {
    const shown = completionItem(this.wanted(), this.last);
    this.item.text = shown.text;
    this.item.tooltip = shown.tooltip;
  }

  /** Ask the server where completions come from now (errors leave the last answer). */
  async refresh(): Promise<void> {
    this.render();
    try {
      this.last = (await this.status()).completion ?? null;
    } catch {
      // The server is not running: the status bar's own item says so.
    }
    this.render();
  }

  /** Flip the user setting; the settings change reaches the server like any other. */
  async toggle(): Promise<void> {
    await vscode.workspace.getConfiguration('agent').update('completion.enabled', !this.wanted(), vscode.ConfigurationTarget.Global);
    await this.refresh();
  }

  dispose(): void {
    this.item.dispose();
  }
}
