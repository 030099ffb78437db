/**
 * "Agent: Sessions" and "Agent: New Session": the workspace's saved conversations.
 *
 * A quick pick lists the sessions (newest first, as the server returns them); picking one offers
 * Resume / Rename / Export / Delete. Resuming or starting a session shows it in the chat view
 * straight from the command's answer; the server's `agent/sessionRestored` carries the same
 * transcript, so whichever arrives last simply redraws the same content.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './client';
import { messageOf } from './client';
import {
  Commands,
  parseExportResult,
  parseSessionList,
  parseSessionRestored,
  parseSessionResult,
  type SessionInfo,
  type SessionRestored,
} from './protocol';

/** The quick pick row for one session. */
function sessionItem(session: SessionInfo, now: Date): { label: string; description: string; detail: string } {
  const when = new Date(session.updated * 1000);
  const sameDay = when.toDateString() === now.toDateString();
  const time = sameDay ? when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : when.toLocaleDateString();
  return {
    label: session.title || 'Untitled session',
    description: `${time} · ${session.messageCount} message${session.messageCount === 1 ? '' : 's'}`,
    detail: session.preview,
  };
}

export class SessionCommands {
  constructor(
    private readonly client: AgentClient,
    private readonly show: (event: SessionRestored) => void,
  ) {}

  async newSession(): Promise<void> {
    try {
      const session = parseSessionResult(await this.client.execute(Commands.sessionNew), Commands.sessionNew);
      this.show({ session, transcript: [] });
    } catch (error) {
      void vscode.window.showErrorMessage(`New session failed: ${messageOf(error)}`);
    }
  }

  async pick(): Promise<void> {
    let sessions: SessionInfo[];
    try {
      sessions = parseSessionList(await this.client.execute(Commands.sessionList));
    } catch (error) {
      void vscode.window.showErrorMessage(`Listing sessions failed: ${messageOf(error)}`);
      return;
    }
    const now = new Date();
    type Item = vscode.QuickPickItem & { session?: SessionInfo };
    const items: Item[] = [
      { label: '$(add) New session', alwaysShow: true },
      ...sessions.map((session) => ({ ...sessionItem(session, now), session })),
    ];
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'Agent: Sessions',
      placeHolder: sessions.length ? 'Pick a session to resume, rename, export or delete' : 'No saved sessions yet',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!chosen) {
      return;
    }
    if (!chosen.session) {
      await this.newSession();
      return;
    }
    const session = chosen.session;
    const action = await vscode.window.showQuickPick(['Resume', 'Rename', 'Export', 'Delete'], { title: session.title || 'Untitled session' });
    try {
      switch (action) {
        case 'Resume':
          await this.resume(session.id);
          break;
        case 'Rename':
          await this.rename(session);
          break;
        case 'Export':
          await this.export(session.id);
          break;
        case 'Delete':
          await this.delete(session);
          break;
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`${action} failed: ${messageOf(error)}`);
    }
  }

  private async resume(id: string): Promise<void> {
    this.show(parseSessionRestored(await this.client.execute(Commands.sessionLoad, { id }), Commands.sessionLoad));
  }

  private async rename(session: SessionInfo): Promise<void> {
    const title = await vscode.window.showInputBox({ title: 'Rename session', value: session.title, prompt: 'New title' });
    if (title === undefined || !title.trim()) {
      return;
    }
    await this.client.execute(Commands.sessionRename, { id: session.id, title: title.trim() });
  }

  private async export(id: string): Promise<void> {
    const markdown = parseExportResult(await this.client.execute(Commands.sessionExport, { id }));
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
    await vscode.window.showTextDocument(document, { preview: false });
  }

  private async delete(session: SessionInfo): Promise<void> {
    const answer = await vscode.window.showWarningMessage(
      `Delete the session "${session.title || 'Untitled session'}"?`,
      { modal: true, detail: 'Its transcript is removed from disk.' },
      'Delete',
    );
    if (answer === 'Delete') {
      await this.client.execute(Commands.sessionDelete, { id: session.id });
    }
  }
}
