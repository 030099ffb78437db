/**
 * The status bar item: idle, working (click to stop) or server stopped (click to restart).
 *
 * Clicking it while a turn runs stops the turn: the language client shows the server's
 * work-done progress in the status bar but without a cancel button, so this item is that button.
 */
import * as vscode from 'vscode';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('agentLsp.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Agent';
    this.update(false, 0);
    this.item.show();
  }

  update(serverRunning: boolean, turns: number): void {
    if (!serverRunning) {
      this.item.text = '$(circle-slash) Agent';
      this.item.tooltip = 'The agent server is not running. Click to restart it.';
      this.item.command = 'agentLsp.restartServer';
    } else if (turns > 0) {
      this.item.text = '$(sync~spin) Agent';
      this.item.tooltip = 'The agent is working. Click to stop.';
      this.item.command = 'agentLsp.cancel';
    } else {
      this.item.text = '$(hubot) Agent';
      this.item.tooltip = 'Agent status';
      this.item.command = 'agentLsp.status';
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
