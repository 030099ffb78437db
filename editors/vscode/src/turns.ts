/**
 * Routes the server's per-turn notifications to whoever owns the turn.
 *
 * Chat turns belong to the chat view, inline-edit turns to the inline edit controller; the
 * `kind` arrives once, in `agent/turnStarted`, and every later notification only carries the
 * turn id. Turns never announced (e.g. started before a server restart) and notices without a
 * turn go to the chat view, where the user can see them. Also keeps the count of running turns
 * for the status bar. Pure (no `vscode` import).
 */
import type {
  InlineEditProposal,
  NoticeEvent,
  RetryEvent,
  TextDelta,
  ToolCallEvent,
  TurnEndedEvent,
  TurnStarted,
} from './protocol';

/** Something that shows a turn's events. Every method is optional so a receiver takes what it needs. */
export interface TurnReceiver {
  turnStarted?(event: TurnStarted): void;
  textDelta?(event: TextDelta): void;
  toolCall?(event: ToolCallEvent): void;
  retry?(event: RetryEvent): void;
  notice?(event: NoticeEvent): void;
  proposal?(event: InlineEditProposal): void;
  turnEnded?(event: TurnEndedEvent): void;
}

export interface Receivers {
  chat: TurnReceiver;
  inlineEdit: TurnReceiver;
}

export class TurnRouter {
  private kinds = new Map<string, TurnStarted['kind']>();
  private listeners: Array<(running: number) => void> = [];
  /** Until `attach` (the receivers need the client, which needs the router), events are dropped. */
  private receivers: Receivers = { chat: {}, inlineEdit: {} };

  /** Set who shows chat and inline-edit turns. */
  attach(receivers: Receivers): void {
    this.receivers = receivers;
  }

  /** The number of turns started and not yet ended. */
  get running(): number {
    return this.kinds.size;
  }

  /** Called with the running count whenever a turn starts or ends. */
  onRunningChanged(listener: (running: number) => void): void {
    this.listeners.push(listener);
  }

  /** Forget every turn (the server stopped: its turns are gone). */
  reset(): void {
    this.kinds.clear();
    this.emit();
  }

  private owner(turnId: string | undefined): TurnReceiver {
    return turnId !== undefined && this.kinds.get(turnId) === 'inlineEdit' ? this.receivers.inlineEdit : this.receivers.chat;
  }

  private emit(): void {
    for (const listener of this.listeners) {
      listener(this.kinds.size);
    }
  }

  turnStarted(event: TurnStarted): void {
    this.kinds.set(event.turnId, event.kind);
    this.owner(event.turnId).turnStarted?.(event);
    this.emit();
  }

  textDelta(event: TextDelta): void {
    this.owner(event.turnId).textDelta?.(event);
  }

  toolCall(event: ToolCallEvent): void {
    this.owner(event.turnId).toolCall?.(event);
  }

  retry(event: RetryEvent): void {
    this.owner(event.turnId).retry?.(event);
  }

  notice(event: NoticeEvent): void {
    this.owner(event.turnId).notice?.(event);
  }

  proposal(event: InlineEditProposal): void {
    this.receivers.inlineEdit.proposal?.(event);
  }

  turnEnded(event: TurnEndedEvent): void {
    const receiver = this.owner(event.turnId);
    this.kinds.delete(event.turnId);
    receiver.turnEnded?.(event);
    this.emit();
  }
}
