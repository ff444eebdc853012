/**
 * Working a conversation from the dashboard (issue 18): its status, internal
 * notes, read receipts and the typing indicator, and agents' edits of its
 * contact. Lists, assignment and views are in `inbox-views.ts`.
 *
 * - A status is set by an agent at the clock's time; a new inbound message
 *   reopens a `resolved` or `snoozed` conversation in the inbox consumer
 *   (`advanceConversation`'s `reopenAt`), only when it is newer than the
 *   status. A snooze is never woken by a timer: it reads `open` once its time
 *   has passed (`effectiveStatus`), and the list filters read it so too.
 * - Notes live beside the conversation, never on WhatsApp.
 * - A read mark sends Meta's read receipt for the last inbound message from
 *   the conversation's number: the mark stands even when the receipt fails
 *   (reported to the caller, logged there). A group gets no receipts.
 */
import { isGroupContactKey } from '../../schemas/whatsapp-ids.js';
import { Conflict, NotFound, ValidationFailed, WindowClosed } from './errors.js';
import type { ContactEdit, ConversationRef, ConversationStatus, InboxDeps, StoredContact, StoredConversation, StoredNote } from './inbox-ports.js';
import type { Clock, IdGenerator, Page, PageRequest } from './ports.js';
import { requireConversation } from './inbox-views.js';

/** Who is acting: the token's subject and, when it names one, the user seat. */
export interface Actor {
  subject: string;
  userId?: string;
}

/** How a status change is recorded as made by (`statusChangedBy`): the seat when known, else the subject. */
export function actorName(actor: Actor): string {
  return actor.userId ?? actor.subject;
}

type WorkDeps = Pick<InboxDeps, 'inbox' | 'clock'>;

export async function setConversationStatus(
  deps: WorkDeps,
  ref: ConversationRef,
  input: { status: ConversationStatus; snoozedUntil?: string },
  actor: Actor,
): Promise<StoredConversation> {
  const now = deps.clock.now();
  let snoozedUntil: string | undefined;
  if (input.status === 'snoozed') {
    const until = input.snoozedUntil === undefined ? Number.NaN : Date.parse(input.snoozedUntil);
    if (!(until > now.getTime())) {
      throw new ValidationFailed([{ path: ['body', 'snoozedUntil'], message: 'A snooze needs snoozedUntil, a time in the future.', code: 'custom' }]);
    }
    snoozedUntil = new Date(until).toISOString();
  }
  const updated = await deps.inbox.setStatus(ref, { status: input.status, ...(snoozedUntil ? { snoozedUntil } : {}), at: now.toISOString(), by: actorName(actor) });
  if (!updated) throw new NotFound('The conversation');
  return updated;
}

// ------------------------------------------------------------------ notes

export async function addNote(deps: WorkDeps & { ids: IdGenerator }, ref: ConversationRef, text: string, actor: Actor): Promise<StoredNote> {
  await requireConversation(deps, ref);
  return deps.inbox.addNote(ref, {
    noteId: deps.ids.newId('note'),
    text,
    authorSubject: actor.subject,
    ...(actor.userId ? { authorUserId: actor.userId } : {}),
    createdAt: deps.clock.now().toISOString(),
  });
}

export async function listNotes(deps: Pick<InboxDeps, 'inbox'>, ref: ConversationRef, page: PageRequest): Promise<Page<StoredNote>> {
  await requireConversation(deps, ref);
  return deps.inbox.listNotes(ref, page);
}

export function noteViewOf(note: StoredNote) {
  return {
    noteId: note.noteId,
    text: note.text,
    author: { subject: note.authorSubject, userId: note.authorUserId ?? null },
    createdAt: note.createdAt,
  };
}

// ---------------------------------------------------------------- contacts

/** An agent's edit of a contact (a group has none: 404); the stored contact after it. */
export async function editContact(deps: WorkDeps, ref: ConversationRef, edit: Omit<ContactEdit, 'at'>): Promise<StoredContact> {
  if (isGroupContactKey(ref.contactKey)) throw new NotFound('The contact');
  const edited = await deps.inbox.editContact(ref, { ...edit, at: deps.clock.now().toISOString() });
  if (!edited) throw new NotFound('The contact');
  return edited;
}

// ------------------------------------------------------- receipts, typing

export type ReceiptOutcome = 'sent' | 'failed' | 'none';

/**
 * Unread to 0, then Meta's read receipt for the last inbound message, from
 * the conversation's number. Nothing inbound, a group, or a number no longer
 * connected: no receipt. A failed receipt leaves the mark as it is.
 */
export async function markReadWithReceipt(
  deps: Pick<InboxDeps, 'inbox' | 'messaging'>,
  ref: ConversationRef,
  onReceiptFailure: (error: unknown) => void = () => undefined,
): Promise<{ conversation: StoredConversation; receipt: ReceiptOutcome }> {
  const conversation = await deps.inbox.markRead(ref);
  if (!conversation) throw new NotFound('The conversation');
  const wamid = conversation.lastInboundWamid;
  if (!wamid || conversation.kind === 'group') return { conversation, receipt: 'none' };
  const number = await deps.inbox.getSendingNumber(ref.accountId, ref.whatsappPhno);
  if (!number) return { conversation, receipt: 'none' };
  try {
    await deps.messaging.markRead(number.phoneNumberId, wamid);
    return { conversation, receipt: 'sent' };
  } catch (error) {
    onReceiptFailure(error);
    return { conversation, receipt: 'failed' };
  }
}

/**
 * The typing indicator while an agent writes (with the read receipt Meta
 * sends with it), for the last inbound message: inside the 24-hour window
 * only (409 `WINDOW_CLOSED` otherwise, as a reply would be), never to a group.
 */
export async function sendTypingIndicator(deps: Pick<InboxDeps, 'inbox' | 'messaging'> & { clock: Clock }, ref: ConversationRef): Promise<{ wamid: string }> {
  const conversation = await requireConversation(deps, ref);
  if (conversation.kind === 'group') {
    throw new ValidationFailed([{ path: ['path', 'conversationId'], message: 'Typing indicators are for one-to-one conversations; a group gets none.', code: 'custom' }]);
  }
  const wamid = conversation.lastInboundWamid;
  const open = conversation.windowOpenUntil !== undefined && conversation.windowOpenUntil > deps.clock.now().toISOString();
  if (!wamid || !open) throw new WindowClosed();
  const number = await deps.inbox.getSendingNumber(ref.accountId, ref.whatsappPhno);
  if (!number) {
    throw new Conflict('NUMBER_NOT_CONNECTED', `The number ${ref.whatsappPhno} is no longer connected; its conversations are read-only.`, { whatsapp_phno: ref.whatsappPhno });
  }
  await deps.messaging.markRead(number.phoneNumberId, wamid, true);
  return { wamid };
}
