/**
 * The one send path for agents and automations: a message goes out from the
 * conversation's own number through the `MessageSender` port and is recorded
 * in the inbox as an outbound message of its conversation.
 *
 * - Free-form messages (anything but a template) are refused outside Meta's
 *   24-hour customer service window: `WINDOW_CLOSED`, nothing sent, nothing
 *   stored. Meta's own refusal (131047, `WindowClosed` from the port) is the
 *   same answer.
 * - An agent's reply moves the conversation's `lastAgentReplyAt` forward and
 *   clears a flag for an agent raised before it; an automation's never does.
 * - An automation answering an inbound message passes `target` (the number's
 *   phone number id, the sender's address and identity from the bus event)
 *   and the window that message opened, so it can reply before the inbox
 *   consumer has written the conversation.
 * - A group's conversation is answered in the group (`recipient_type:
 *   "group"`, `to` the group's id), never to one member privately.
 */
import type { AiAnswerMeta, ReplyContent } from '../../schemas/automations.js';
import type { ContactIdentity } from './contact-id.js';
import { Conflict, NotFound, WindowClosed } from './errors.js';
import { recordOutboundMessage } from './inbox-consumer.js';
import type { ConversationRef, InboxRepository, StoredConversation } from './inbox-ports.js';
import type { MessageSender, SentMessage } from './messaging.js';
import type { StoredMedia } from './media-ports.js';
import type { Clock } from './ports.js';

export type OutgoingMessage =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; caption?: string }
  | { type: 'document'; url: string; filename?: string; caption?: string }
  | { type: 'video'; url: string; caption?: string }
  | { type: 'audio'; url: string }
  | { type: 'sticker'; url: string }
  | { type: 'template'; name: string; language: string; components?: unknown[] }
  | { type: 'buttons'; text: string; buttons: { id: string; title: string }[] }
  | { type: 'list'; text: string; buttonText: string; rows: { id: string; title: string }[] };

/** Where a reply goes when the conversation may not be stored yet: as the inbound event named it. */
export interface ReplyTarget {
  /** The Graph id of the number the message arrived on. */
  phoneNumberId: string;
  /** The sender's address exactly as Meta wrote it (its number, or BSUID for a username-only user), or a group's id. */
  to: string;
  identity: ContactIdentity;
  /** `group`: `to` is a WhatsApp group's id. */
  recipientType?: 'group';
}

export type ReplyOutcome = { outcome: 'sent'; wamid: string } | { outcome: 'WINDOW_CLOSED' };

export interface ReplyDeps {
  inbox: InboxRepository;
  messaging: MessageSender;
  clock: Clock;
}

export interface ReplyOptions {
  by: 'agent' | 'automation';
  target?: ReplyTarget;
  /** The window the message being answered opened; the stored one otherwise. */
  windowOpenUntil?: string;
  /** Echoed by Meta in the sent message's statuses. */
  bizOpaqueCallbackData?: string;
  /** An AI agent's answer: kept with the message. */
  ai?: AiAnswerMeta;
  /** A file an agent sent (an upload's key, or the link): kept with the message for its view (`agent-media.ts`). */
  media?: StoredMedia;
}

/**
 * Sends from the conversation's own number and records the outbound message in the inbox.
 * Free-form (anything but a template) is refused outside the 24-hour window: WINDOW_CLOSED, nothing sent.
 * `by: 'agent'` marks the conversation's lastAgentReplyAt (automations never do).
 * `target` (phoneNumberId/to/identity from the inbound event) lets an automation reply before the inbox
 * consumer has created the conversation; without it they are read from the conversation and the number
 * (`NotFound` when there is no conversation, `Conflict` NUMBER_NOT_CONNECTED when its number is gone).
 * `windowOpenUntil`, when given, is used instead of the stored one (the message being answered opened it).
 */
export async function replyTo(deps: ReplyDeps, ref: ConversationRef, message: OutgoingMessage, options: ReplyOptions): Promise<ReplyOutcome> {
  const now = deps.clock.now();
  const freeForm = message.type !== 'template';
  // The stored conversation is needed for the address (no target) or the window (a free-form message without one given).
  const needsStored = !options.target || (freeForm && options.windowOpenUntil === undefined);
  const conversation = needsStored ? await deps.inbox.getConversation(ref) : undefined;
  if (!options.target && !conversation) throw new NotFound('The conversation');

  const windowOpenUntil = options.windowOpenUntil ?? conversation?.windowOpenUntil;
  if (freeForm && !(windowOpenUntil && Date.parse(windowOpenUntil) > now.getTime())) return { outcome: 'WINDOW_CLOSED' };

  const target = options.target ?? (await storedTarget(deps, ref, conversation!));
  let sent: SentMessage;
  try {
    sent = await send(deps.messaging, target, message, options.bizOpaqueCallbackData);
  } catch (error) {
    if (error instanceof WindowClosed) return { outcome: 'WINDOW_CLOSED' };
    throw error;
  }

  const at = now.toISOString();
  await recordOutboundMessage(deps, {
    ...ref,
    phoneNumberId: target.phoneNumberId,
    identity: target.identity,
    wamid: sent.wamid,
    messageType: storedTypeOf(message),
    text: readableText(message),
    timestamp: at,
    content: contentOf(message),
    ...(options.bizOpaqueCallbackData ? { bizOpaqueCallbackData: options.bizOpaqueCallbackData } : {}),
    ...(options.ai ? { ai: options.ai } : {}),
    ...(options.media ? { media: options.media } : {}),
  });
  if (options.by === 'agent') await deps.inbox.markAgentReply(ref, at);
  return { outcome: 'sent', wamid: sent.wamid };
}

/** The conversation's number (still connected) and the address its user last wrote from. */
async function storedTarget(deps: ReplyDeps, ref: ConversationRef, conversation: StoredConversation): Promise<ReplyTarget> {
  const number = await deps.inbox.getSendingNumber(ref.accountId, ref.whatsappPhno);
  if (!number) {
    throw new Conflict('NUMBER_NOT_CONNECTED', `The number ${ref.whatsappPhno} is no longer connected; its conversations are read-only.`, {
      whatsapp_phno: ref.whatsappPhno,
    });
  }
  if (conversation.groupId) return { phoneNumberId: number.phoneNumberId, to: conversation.groupId, recipientType: 'group', identity: { contactKey: ref.contactKey } };
  return {
    phoneNumberId: number.phoneNumberId,
    to: conversation.lastWaId ?? conversation.waId ?? conversation.userId ?? ref.contactKey,
    identity: {
      contactKey: ref.contactKey,
      ...(conversation.waId ? { waId: conversation.waId } : {}),
      ...(conversation.userId ? { userId: conversation.userId } : {}),
    },
  };
}

function send(messaging: MessageSender, target: ReplyTarget, message: OutgoingMessage, bizOpaqueCallbackData: string | undefined): Promise<SentMessage> {
  const base = {
    phoneNumberId: target.phoneNumberId,
    to: target.to,
    ...(target.recipientType ? { recipientType: target.recipientType } : {}),
    ...(bizOpaqueCallbackData ? { bizOpaqueCallbackData } : {}),
  };
  switch (message.type) {
    case 'text':
      return messaging.sendText({ ...base, text: message.text });
    case 'template':
      return messaging.sendTemplate({
        ...base,
        template: { name: message.name, language: message.language, ...(message.components ? { components: message.components } : {}) },
      });
    case 'buttons':
      return messaging.sendInteractive({ ...base, interactive: { type: 'buttons', body: message.text, buttons: message.buttons } });
    case 'list':
      return messaging.sendInteractive({ ...base, interactive: { type: 'list', body: message.text, buttonText: message.buttonText, rows: message.rows } });
    case 'image':
      return messaging.sendMedia({ ...base, media: { type: 'image', link: message.url, ...(message.caption ? { caption: message.caption } : {}) } });
    case 'document':
      return messaging.sendMedia({
        ...base,
        media: { type: 'document', link: message.url, ...(message.caption ? { caption: message.caption } : {}), ...(message.filename ? { filename: message.filename } : {}) },
      });
    case 'video':
      return messaging.sendMedia({ ...base, media: { type: 'video', link: message.url, ...(message.caption ? { caption: message.caption } : {}) } });
    case 'audio':
    case 'sticker':
      return messaging.sendMedia({ ...base, media: { type: message.type, link: message.url } });
  }
}

/** Reply material (rendered) as the send path takes it. */
export function outgoingOf(content: ReplyContent): OutgoingMessage {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: content.text };
    case 'image':
      return { type: 'image', url: content.url, ...(content.caption !== undefined ? { caption: content.caption } : {}) };
    case 'document':
      return {
        type: 'document',
        url: content.url,
        ...(content.filename !== undefined ? { filename: content.filename } : {}),
        ...(content.caption !== undefined ? { caption: content.caption } : {}),
      };
    case 'template':
      return { type: 'template', name: content.name, language: content.language, ...(content.components ? { components: content.components } : {}) };
  }
}

/** The type the inbox stores the message as: Meta's. */
export function storedTypeOf(message: OutgoingMessage): string {
  return message.type === 'buttons' || message.type === 'list' ? 'interactive' : message.type;
}

/** What the inbox shows for a message we sent: its words where it has some, a bracketed label where not. */
export function readableText(message: OutgoingMessage): string {
  switch (message.type) {
    case 'text':
    case 'buttons':
    case 'list':
      return message.text;
    case 'image':
      return message.caption || '[image]';
    case 'document':
      return message.caption || (message.filename ? `[document] ${message.filename}` : '[document]');
    case 'video':
      return message.caption || '[video]';
    case 'audio':
    case 'sticker':
      return `[${message.type}]`;
    case 'template':
      return `[template] ${message.name}`;
  }
}

/** What was sent, in the shape of Meta's message object (the inbox keeps it as the message's `content`). */
function contentOf(message: OutgoingMessage): Record<string, unknown> {
  switch (message.type) {
    case 'text':
      return { type: 'text', text: { body: message.text } };
    case 'template':
      return { type: 'template', template: { name: message.name, language: { code: message.language }, ...(message.components ? { components: message.components } : {}) } };
    case 'buttons':
      return {
        type: 'interactive',
        interactive: { type: 'button', body: { text: message.text }, action: { buttons: message.buttons.map((reply) => ({ type: 'reply', reply })) } },
      };
    case 'list':
      return { type: 'interactive', interactive: { type: 'list', body: { text: message.text }, action: { button: message.buttonText, sections: [{ rows: message.rows }] } } };
    case 'image':
      return { type: 'image', image: { link: message.url, ...(message.caption ? { caption: message.caption } : {}) } };
    case 'document':
      return {
        type: 'document',
        document: { link: message.url, ...(message.caption ? { caption: message.caption } : {}), ...(message.filename ? { filename: message.filename } : {}) },
      };
    case 'video':
      return { type: 'video', video: { link: message.url, ...(message.caption ? { caption: message.caption } : {}) } };
    case 'audio':
      return { type: 'audio', audio: { link: message.url } };
    case 'sticker':
      return { type: 'sticker', sticker: { link: message.url } };
  }
}
