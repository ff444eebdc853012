/**
 * Fan-out of live updates from every inbox write (`live-updates.ts`):
 * `withLiveUpdates` wraps an `InboxRepository` so that, once a write has
 * succeeded, what it changed is published to the account's dashboards.
 *
 * | write | update |
 * |---|---|
 * | `recordInbound`, `recordRecorded`, `recordOutbound` | `message.created` (also for `duplicate`: delivery is at least once, a client upserts by wamid, and a redelivery after a crash between the write and the push still reaches the dashboard) |
 * | `recordStatus` (`applied`), `recordAmendment` (`applied`), `recordDecision` | `message.updated`, the message read back |
 * | `advanceConversation`, `assignTeam`, `markRead`, `flagForAgent`, `markAgentReply`, and any other write that takes a `ConversationRef` first | `conversation.updated`, the conversation as returned or read back |
 *
 * Reads pass through untouched. A message built from the write's own input
 * (inbound, echoes, history) needs no read; one read back (statuses, edits,
 * decisions, sends) is read only when someone listens (`LiveUpdates.listens`).
 * Media URLs are never in a live message: a client that shows the file
 * re-fetches the message list (URLs are short-lived anyway).
 *
 * A failed push (or a failed read back) is reported to `onFailure` and
 * swallowed: it never fails the write, the consumer or the request.
 * `applyAmendments` (an edit that came before its original) publishes
 * nothing of its own: the original's `message.created` shows the message as
 * received, the list shows it edited.
 */
import type { AutomationDecision } from '../../schemas/automations.js';
import type { ConversationView, MessageView } from '../../schemas/inbox.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import type { AutomationState } from './automation-ports.js';
import type {
  ConversationRef,
  InboundMessage,
  InboxRepository,
  OutboundMessage,
  RecordedMessage,
  StoredConversation,
  StoredMessage,
} from './inbox-ports.js';
import { conversationViewOf, messageViewOf } from './inbox-views.js';
import type { LiveUpdate, LiveUpdates } from './live-updates.js';

/** Reads a stored message back (the DynamoDB adapter: by the wamid pointer, or by its key). */
export interface LiveMessageLookup {
  /** The message a wamid of the number names, with its conversation; undefined when not stored (or only a placeholder). */
  byWamid(phoneNumberId: string, wamid: string): Promise<{ ref: ConversationRef; message: StoredMessage } | undefined>;
  /** The message listed at `timestamp` in the conversation; undefined when not stored (or only a placeholder). */
  at(ref: ConversationRef, timestamp: string, wamid: string): Promise<StoredMessage | undefined>;
}

export interface LiveInboxOptions {
  messages: LiveMessageLookup;
  /** Told of every push (or read back) that failed; the write it followed stands. */
  onFailure?: (error: unknown, update: { type: LiveUpdate['type']; accountId: string; whatsappPhno: string }) => void;
}

/** Reads never publish; a method of a later issue whose name reads like one of these passes through too. */
const READ = /^(get|list|find|search|count|contactKeyFor)/;

export function withLiveUpdates(inbox: InboxRepository, live: LiveUpdates, options: LiveInboxOptions): InboxRepository {
  const fanOut = new LiveFanOut(inbox, live, options);
  const wrapped: Partial<InboxRepository> = {
    async recordInbound(message) {
      const outcome = await inbox.recordInbound(message);
      await fanOut.message('message.created', message, () => Promise.resolve(inboundView(message)));
      return outcome;
    },
    async recordRecorded(message) {
      const outcome = await inbox.recordRecorded(message);
      await fanOut.message('message.created', message, () => Promise.resolve(recordedView(message)));
      return outcome;
    },
    async recordOutbound(message) {
      await inbox.recordOutbound(message);
      // A status may have come first: the stored item (its status) is what the dashboard shows.
      await fanOut.message('message.created', message, async () => (await options.messages.byWamid(message.phoneNumberId, message.wamid))?.message ?? outboundView(message));
    },
    async recordStatus(change) {
      const outcome = await inbox.recordStatus(change);
      if (outcome === 'applied') await fanOut.messageByWamid(change.accountId, change.whatsappPhno, change.phoneNumberId, change.wamid);
      return outcome;
    },
    async recordAmendment(amendment) {
      const outcome = await inbox.recordAmendment(amendment);
      if (outcome === 'applied') await fanOut.messageByWamid(undefined, undefined, amendment.phoneNumberId, amendment.originalWamid);
      return outcome;
    },
    async recordDecision(ref: ConversationRef, wamid: string, timestamp: string, decision: AutomationDecision) {
      await inbox.recordDecision(ref, wamid, timestamp, decision);
      await fanOut.message('message.updated', ref, () => options.messages.at(ref, timestamp, wamid));
    },
    async assignTeam(ref, teamId, userId) {
      const conversation = await inbox.assignTeam(ref, teamId, userId);
      await fanOut.conversation(ref, conversation);
      return conversation;
    },
    async markRead(ref) {
      const conversation = await inbox.markRead(ref);
      if (conversation) await fanOut.conversation(ref, conversation);
      return conversation;
    },
  };
  return new Proxy(inbox, {
    get(target, name, receiver) {
      if (typeof name === 'string' && name in wrapped) return wrapped[name as keyof InboxRepository];
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string' || READ.test(name)) return typeof value === 'function' ? value.bind(target) : value;
      // Every other write (advanceConversation, flagForAgent, markAgentReply, and what later issues add) that names a
      // conversation first: the conversation it returns, or the one stored after it.
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const ref = args[0];
        if (isConversationRef(ref)) await fanOut.conversation(ref, isStoredConversation(result, ref) ? result : undefined);
        return result;
      };
    },
  });
}

/**
 * The automation consumer's own writes of inbox state (`AutomationState`):
 * a flag for an agent (`conversation.updated`) and a decision stored on its
 * message (`message.updated`).
 */
export function withLiveAutomationState<S extends Pick<AutomationState, 'flagForAgent' | 'complete'>>(
  state: S,
  inbox: Pick<InboxRepository, 'getConversation'>,
  live: LiveUpdates,
  options: LiveInboxOptions,
): S {
  const fanOut = new LiveFanOut(inbox, live, options);
  const flagForAgent: S['flagForAgent'] = async (ref, reason, at) => {
    await state.flagForAgent(ref, reason, at);
    await fanOut.conversation(ref);
  };
  const complete: S['complete'] = async (phoneNumberId, wamid, ref, decision) => {
    await state.complete(phoneNumberId, wamid, ref, decision);
    await fanOut.messageByWamid(ref.accountId, ref.whatsappPhno, phoneNumberId, wamid);
  };
  return new Proxy(state, {
    get(target, name, receiver) {
      if (name === 'flagForAgent') return flagForAgent;
      if (name === 'complete') return complete;
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

class LiveFanOut {
  constructor(
    private readonly inbox: Pick<InboxRepository, 'getConversation'>,
    private readonly live: LiveUpdates,
    private readonly options: LiveInboxOptions,
  ) {}

  /** A message of a known conversation; `read` builds (or reads back) the stored message. */
  async message(type: 'message.created' | 'message.updated', ref: ConversationRef, read: () => Promise<StoredMessage | undefined>): Promise<void> {
    await this.safely(type, ref.accountId, ref.whatsappPhno, async () => {
      if (!(await this.listens(ref.accountId, ref.whatsappPhno))) return;
      const message = await read();
      if (!message) return;
      await this.live.publish({ type, ...common(ref), message: messageViewOf(message) as MessageView });
    });
  }

  /** A message known by its wamid only (a status, an edit): read back through its pointer. */
  async messageByWamid(accountId: string | undefined, whatsappPhno: string | undefined, phoneNumberId: string, wamid: string): Promise<void> {
    await this.safely('message.updated', accountId ?? '?', whatsappPhno ?? '?', async () => {
      if (accountId && whatsappPhno && !(await this.listens(accountId, whatsappPhno))) return;
      const found = await this.options.messages.byWamid(phoneNumberId, wamid);
      if (!found) return;
      if (!accountId && !(await this.listens(found.ref.accountId, found.ref.whatsappPhno))) return;
      await this.live.publish({ type: 'message.updated', ...common(found.ref), message: messageViewOf(found.message) as MessageView });
    });
  }

  /** The conversation after a write: as the write returned it, or read back. */
  async conversation(ref: ConversationRef, given?: StoredConversation): Promise<void> {
    await this.safely('conversation.updated', ref.accountId, ref.whatsappPhno, async () => {
      if (!(await this.listens(ref.accountId, ref.whatsappPhno))) return;
      const conversation = given ?? (await this.inbox.getConversation(ref));
      if (!conversation) return;
      await this.live.publish({ type: 'conversation.updated', ...common(ref), conversation: conversationViewOf(conversation) as ConversationView });
    });
  }

  private async listens(accountId: string, whatsappPhno: string): Promise<boolean> {
    return this.live.listens ? this.live.listens(accountId, whatsappPhno) : true;
  }

  private async safely(type: LiveUpdate['type'], accountId: string, whatsappPhno: string, push: () => Promise<void>): Promise<void> {
    try {
      await push();
    } catch (error) {
      try {
        this.options.onFailure?.(error, { type, accountId, whatsappPhno });
      } catch {
        // A reporter that throws changes nothing either.
      }
    }
  }
}

function common(ref: ConversationRef) {
  return { accountId: ref.accountId, whatsapp_phno: ref.whatsappPhno, conversationId: conversationIdOf(ref.whatsappPhno, ref.contactKey) };
}

function isConversationRef(value: unknown): value is ConversationRef {
  if (!value || typeof value !== 'object') return false;
  const ref = value as Record<string, unknown>;
  return typeof ref.accountId === 'string' && typeof ref.whatsappPhno === 'string' && typeof ref.contactKey === 'string';
}

function isStoredConversation(value: unknown, ref: ConversationRef): value is StoredConversation {
  if (!isConversationRef(value)) return false;
  const conversation = value as unknown as StoredConversation;
  return conversation.contactKey === ref.contactKey && typeof conversation.unreadCount === 'number' && typeof conversation.kind === 'string';
}

function inboundView(message: InboundMessage): StoredMessage {
  return {
    wamid: message.wamid,
    direction: 'in',
    messageType: message.messageType,
    text: message.text,
    status: 'received',
    timestamp: message.timestamp,
    source: 'cloud_api',
    content: message.content,
    ...(message.group ? { from: message.group.from } : {}),
  };
}

function recordedView(message: RecordedMessage): StoredMessage {
  return {
    wamid: message.wamid,
    direction: message.direction,
    messageType: message.messageType,
    text: message.text,
    status: message.status,
    timestamp: message.timestamp,
    source: message.source,
    content: message.content,
    ...(message.group ? { from: message.group.from } : {}),
  };
}

function outboundView(message: OutboundMessage): StoredMessage {
  return {
    wamid: message.wamid,
    direction: 'out',
    messageType: message.messageType,
    text: message.text,
    status: 'accepted',
    timestamp: message.timestamp,
    source: 'cloud_api',
    ...(message.content ? { content: message.content } : {}),
    ...(message.ai ? { ai: message.ai } : {}),
  };
}
