/**
 * VS Code's side of checkpoints: "Agent: Restore Checkpoint" (also the chat view's Restore
 * action), "Agent: Undo Restore", and the read-only documents the diff editor compares.
 *
 * The flow is `checkpointFlow.ts`; this module gives it quick picks, messages and the diff editor.
 * Both sides of a diff are documents of the `agent-checkpoint` scheme holding the texts the server
 * sent (the file now, what a restore would write), so what is compared is exactly what the server
 * will do, and nothing can be edited or saved by mistake.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './client';
import { restoreCheckpoint, restoreSummary, type CheckpointApi, type CheckpointUi } from './checkpointFlow';
import { parseCheckpointDiff, parseCheckpointList, parseRestoreResult, type FileDiff, type RestoreResult } from './checkpointProtocol';
import { Commands } from './protocol';
import { visible } from './visibleText';

export const CHECKPOINT_SCHEME = 'agent-checkpoint';
/** Texts kept for diff documents that may still be open (the oldest pair is dropped first). */
const KEPT = 40;

export class CheckpointCommands implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private opened = 0;

  private readonly api: CheckpointApi;
  private readonly ui: CheckpointUi = {
    pick: async (title, placeHolder, choices) => {
      const items = choices.map((choice) => ({ label: choice.label, description: choice.description, detail: choice.detail, choice }));
      const picked = await vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
      return picked?.choice.value;
    },
    showDiff: (file) => this.showDiff(file),
    info: (message) => void vscode.window.showInformationMessage(message),
  };

  constructor(private readonly client: AgentClient) {
    this.api = {
      list: async () => parseCheckpointList(await client.execute(Commands.checkpointList)),
      diff: async (id) => parseCheckpointDiff(await client.execute(Commands.checkpointDiff, { id })),
      restore: async (argument) => parseRestoreResult(await client.execute(Commands.checkpointRestore, argument)),
    };
  }

  /** "Agent: Restore Checkpoint"; `id` (from the chat view) skips the turn pick. */
  restore(id?: unknown): Promise<RestoreResult | undefined> {
    return restoreCheckpoint(this.api, this.ui, typeof id === 'string' ? id : undefined);
  }

  /** "Agent: Undo Restore". */
  async undo(): Promise<void> {
    const result = parseRestoreResult(await this.client.execute(Commands.checkpointUndo), Commands.checkpointUndo);
    void vscode.window.showInformationMessage(restoreSummary(result));
  }

  private async showDiff(file: FileDiff): Promise<void> {
    const name = visible(file.path);
    if (file.binary) {
      void vscode.window.showInformationMessage(`Agent: ${name} is a binary file; a restore puts back its earlier content whole.`);
      return;
    }
    this.opened += 1;
    const current = this.keep('now', file.path, file.current ?? '');
    const before = this.keep('before', file.path, file.before ?? '');
    const title = `${name} (now ↔ before the turn)`;
    await vscode.commands.executeCommand('vscode.diff', current, before, title, { preview: true });
  }

  /** A document of the checkpoint scheme holding `text`; its path ends with the file's name. */
  private keep(side: string, path: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: `/${this.opened}/${side}/${path.replace(/^\/+/, '')}` });
    this.texts.set(uri.toString(), text);
    for (const key of [...this.texts.keys()].slice(0, Math.max(0, this.texts.size - KEPT))) {
      this.texts.delete(key);
    }
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This checkpoint text is no longer kept.';
  }
}
