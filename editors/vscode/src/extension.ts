/**
 * Entry point: wires the modules together and registers commands. No logic of its own.
 */
import * as vscode from 'vscode';
import { APPROVAL_SCHEME, ApprovalDialogs } from './approvals';
import { ChatViewProvider, RESTORE_COMMAND } from './chatView';
import { CHECKPOINT_SCHEME, CheckpointCommands } from './checkpoints';
import { AgentClient, messageOf } from './client';
import { CompletionBar, TOGGLE_COMMAND } from './completionBar';
import { InlineEditController, PROPOSAL_SCHEME } from './inlineEdit';
import { Commands, parseCancelResult, parseStatusResult } from './protocol';
import { SessionCommands } from './sessions';
import { changeAction } from './settings';
import { formatStatus } from './status';
import { StatusBar } from './statusBar';
import { TurnRouter } from './turns';

let client: AgentClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Agent LSP', { log: true });
  const statusBar = new StatusBar();
  const router = new TurnRouter();
  const approvals = new ApprovalDialogs();
  const agent: AgentClient = new AgentClient(output, {
    router,
    sessionRestored: (event) => chatView.sessionRestored(event),
    requestPermission: (request) => approvals.ask(request),
    inlineEditCommand: (argument): Promise<void> => inlineEdit.fromServerCommand(argument),
    settingsRead: () => void completionBar.refresh(),
    runningChanged: (running) => {
      statusBar.update(running, router.running);
      if (running) {
        void completionBar.refresh();
      } else {
        chatView.serverStopped();
        inlineEdit.serverStopped();
      }
    },
  });
  client = agent;
  const completionBar = new CompletionBar(async () => parseStatusResult(await agent.execute(Commands.status)));
  const chatView = new ChatViewProvider(context.extensionUri, agent);
  const inlineEdit: InlineEditController = new InlineEditController(agent);
  const sessions = new SessionCommands(agent, (event) => chatView.sessionRestored(event));
  const checkpoints = new CheckpointCommands(agent);
  router.attach({ chat: chatView, inlineEdit });
  router.onRunningChanged((turns) => statusBar.update(agent.running, turns));

  const command = (id: string, run: (...args: unknown[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await run(...args);
      } catch (error) {
        void vscode.window.showErrorMessage(messageOf(error));
      }
    });

  context.subscriptions.push(
    output,
    statusBar,
    completionBar,
    agent,
    inlineEdit,
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chatView, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, inlineEdit),
    vscode.workspace.registerTextDocumentContentProvider(APPROVAL_SCHEME, approvals),
    vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, checkpoints),
    command('agentLsp.chat', () => chatView.focus()),
    command('agentLsp.addSelection', () => chatView.addSelection()),
    command('agentLsp.editSelection', () => inlineEdit.editSelection()),
    command('agentLsp.acceptEdit', () => inlineEdit.accept()),
    command('agentLsp.rejectEdit', () => inlineEdit.reject()),
    command('agentLsp.sessions', () => sessions.pick()),
    command('agentLsp.newSession', () => sessions.newSession()),
    command(RESTORE_COMMAND, (id) => checkpoints.restore(id)),
    command('agentLsp.undoRestore', () => checkpoints.undo()),
    command('agentLsp.cancel', async () => {
      if (!parseCancelResult(await agent.execute(Commands.cancel))) {
        void vscode.window.showInformationMessage('Agent: nothing to cancel.');
      }
    }),
    command('agentLsp.status', async () => {
      const lines = formatStatus(parseStatusResult(await agent.execute(Commands.status)));
      void vscode.window.showInformationMessage(lines[0], { modal: true, detail: lines.slice(1).join('\n') });
    }),
    command(TOGGLE_COMMAND, () => completionBar.toggle()),
    command('agentLsp.restartServer', () => agent.restart()),
    command('agentLsp.showLog', () => output.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const action = changeAction((section) => event.affectsConfiguration(section));
      if (action === 'restart') {
        void agent.restart();
      } else if (action === 'notify') {
        agent.pushSettings();
      }
      if (event.affectsConfiguration('agent.completion')) {
        void completionBar.refresh();
      }
    }),
  );
  await agent.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
