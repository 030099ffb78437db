/**
 * Driving VS Code's UI (code-server in headless Chromium) the way a user does: command palette,
 * quick open, keyboard, notifications, and the chat webview. Every wait is bounded polling on the
 * DOM, never a fixed sleep.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium, type FrameLocator, type Page } from 'playwright-core';
import { waitFor } from './processes';

/** The system Chromium (Debian's); playwright never downloads its own browser here. */
function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = path.join(dir, name);
      if (dir && existsSync(candidate)) {
        return candidate;
      }
    }
  }
  throw new Error('Chromium is not installed: run scripts/setup-vscode.sh');
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

export class Workbench {
  constructor(readonly page: Page) {}

  /** Open `folder` in a new page; on failure the page is screenshotted to `failureShot`. */
  static async open(browser: Browser, url: string, folder: string, failureShot: string): Promise<Workbench> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
      await page.locator('.monaco-workbench').waitFor({ timeout: 30000 });
      // The extension is active and its server answered initialize: the idle status bar icon.
      await page.locator('.statusbar-item .codicon-hubot').waitFor({ timeout: 30000 });
    } catch (error) {
      await page.screenshot({ path: failureShot }).catch(() => undefined);
      await page.close();
      throw error;
    }
    return new Workbench(page);
  }

  /** Run a command from the palette by its title ("Agent: Chat"). */
  async runCommand(title: string): Promise<void> {
    const page = this.page;
    const input = page.locator('.quick-input-widget .quick-input-box input');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    // The palette may be closed again by a focus change it raced with, or still be settling:
    // reopen and retype until it lists the command.
    await waitFor(`the palette to list "${title}"`, async () => {
      if (!(await input.isVisible())) {
        await page.keyboard.press('F1');
        await input.waitFor({ timeout: 2000 });
      }
      if ((await input.inputValue()) !== `>${title}`) {
        await input.fill(`>${title}`, { timeout: 2000 });
        return false;
      }
      const size = Number((await rows.first().getAttribute('aria-setsize', { timeout: 1000 })) ?? '0');
      return size > 0 && size < 30;
    });
    // Click the row whose label is exactly the title ("Agent: Chat", not "Add Selection to Chat");
    // callers wait for what the command shows (it may open another quick input at once).
    const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await rows.filter({ has: page.locator('.label-name', { hasText: exact }) }).first().click();
  }

  /**
   * "Developer: Set Log Level..." for one log (an output channel such as "Agent LSP"). The
   * language client traces LSP messages only while its channel's level is Trace.
   */
  async setLogLevel(log: string, level: string): Promise<void> {
    await this.runCommand('Developer: Set Log Level...');
    const rows = this.page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${log}$`) }) }).first().click();
    await rows.filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${level}$`) }) }).first().click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Answer an input box (showInputBox) that is open or about to open. */
  async answerInputBox(text: string, promptPart?: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await widget.waitFor();
    if (promptPart) {
      await widget.getByText(promptPart, { exact: false }).first().waitFor();
    }
    const input = widget.locator('.quick-input-box input');
    await input.fill(text);
    await input.press('Enter');
    await widget.waitFor({ state: 'hidden' });
  }

  /** Open a workspace file through quick open and wait for its editor. */
  async openFile(name: string): Promise<void> {
    const page = this.page;
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    await input.fill(name);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: name }).waitFor();
    await this.focusEditor();
  }

  async focusEditor(): Promise<void> {
    await this.page.locator('.editor-instance .monaco-editor textarea.inputarea, .editor-instance .monaco-editor .native-edit-context').first().focus();
  }

  /** Select whole lines `from`..`to` (1-based), without the last line break. */
  async selectLines(from: number, to: number): Promise<void> {
    const page = this.page;
    await page.keyboard.press('Control+G');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    await input.fill(`:${from}`);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.keyboard.press('Home');
    await page.keyboard.press('Home');
    for (let line = from; line < to; line++) {
      await page.keyboard.press('Shift+ArrowDown');
    }
    await page.keyboard.press('Shift+End');
  }

  /**
   * Close what a failed scenario may have left over the workbench, the way a user does: Escape on
   * modal dialogs (an approval dialog's Escape rejects), input boxes and the code action menu,
   * until none is open.
   */
  async dismissOverlays(): Promise<void> {
    const page = this.page;
    const overlays = [page.locator('.monaco-dialog-box'), page.locator('.quick-input-widget'), page.locator('.action-widget')];
    for (let round = 0; round < 10; round++) {
      let open: ReturnType<Page['locator']> | undefined;
      for (const overlay of overlays) {
        if (await overlay.first().isVisible()) {
          open = overlay.first();
          break;
        }
      }
      if (!open) {
        return;
      }
      await page.keyboard.press('Escape');
      // A dialog may be followed by another (a rejection asks for a reason): the next round sees it.
      await open.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    }
    throw new Error('dialogs or input boxes kept opening');
  }

  /** Close every editor; unsaved changes are dropped ("Don't Save"). */
  async closeAllEditors(): Promise<void> {
    const page = this.page;
    const tabs = page.locator('.tabs-container .tab');
    if ((await tabs.count()) === 0) {
      return;
    }
    await this.runCommand('View: Close All Editors');
    const dialog = page.locator('.monaco-dialog-box');
    await waitFor('every editor to close', async () => {
      if (await dialog.isVisible()) {
        await dialog.locator('.monaco-button', { hasText: "Don't Save" }).first().click({ timeout: 2000 });
      }
      return (await tabs.count()) === 0;
    });
  }

  /** Drop every notification (toasts of a failed scenario would match the next one's). */
  async clearNotifications(): Promise<void> {
    if ((await this.page.locator('.notification-toast').count()) > 0) {
      await this.runCommand('Notifications: Clear All Notifications');
      await this.page.locator('.notification-toast').first().waitFor({ state: 'detached' });
    }
  }

  notification(text: string): ReturnType<Page['locator']> {
    return this.page.locator('.notification-toast', { hasText: text });
  }

  async clickNotificationButton(text: string, button: string): Promise<void> {
    const toast = this.notification(text);
    await toast.waitFor();
    await toast.locator('.monaco-button', { hasText: button }).first().click();
  }

  /** The chat view's content frame (the webview's inner iframe). */
  chat(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  async openChat(): Promise<FrameLocator> {
    await this.runCommand('Agent: Chat');
    const chat = this.chat();
    await chat.locator('#prompt').waitFor();
    return chat;
  }

  async sendChat(prompt: string): Promise<void> {
    const chat = this.chat();
    await chat.locator('#prompt').fill(prompt);
    await chat.locator('#send').click();
    // The box is cleared only once the server accepted the prompt.
    await waitFor('the server to accept the prompt', async () => (await chat.locator('#prompt').inputValue()) === '');
  }
}

/** The newest "Agent LSP" output channel log written by code-server (one per extension host). */
export function agentLog(userData: string): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        walk(full);
      } else if (name.includes('Agent LSP')) {
        found.push(full);
      }
    }
  };
  const logs = path.join(userData, 'logs');
  if (!existsSync(logs)) {
    return '';
  }
  walk(logs);
  found.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  const newest = found.at(-1);
  return newest ? readFileSync(newest, 'utf8') : '';
}

/** One LSP message as the language client traces it (`agentLsp.trace.server` with format json). */
export interface TracedMessage {
  type: string;
  message: { id?: number | string; method?: string; params?: unknown };
}

const TRACE_MARK = '{"isLSPMessage":true';

/** Every traced LSP message of the current extension host's log, oldest first. */
export function lspTrace(userData: string): TracedMessage[] {
  const messages: TracedMessage[] = [];
  for (const line of agentLog(userData).split('\n')) {
    const at = line.indexOf(TRACE_MARK);
    if (at >= 0) {
      try {
        messages.push(JSON.parse(line.slice(at)) as TracedMessage);
      } catch {
        // A line still being written.
      }
    }
  }
  return messages;
}

/** The log's end for failure reports: the extension's own lines, and the last traced messages in brief. */
export function agentLogTail(userData: string, lines = 60): string {
  const all = agentLog(userData).split('\n');
  if (!all.some(Boolean)) {
    return '(no Agent LSP log)';
  }
  const own = all.filter((line) => !line.includes(TRACE_MARK) && !/\[(LSP|Trace) +- /.test(line));
  const traced = lspTrace(userData)
    .slice(-15)
    .map((m) => `  ${m.type} ${m.message.method ?? ''} ${m.message.id ?? ''}`.trimEnd());
  return `${own.slice(-lines).join('\n')}\n(last LSP messages)\n${traced.join('\n')}`;
}
