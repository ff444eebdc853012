/**
 * The automation consumer (docs/automations.md, "The consumer: claims, locks,
 * sessions, safeguards"): one decision per inbound message, carried out once
 * however often the message is delivered.
 *
 * For each `WhatsApp Message Received` event of the `automation` rule:
 * 0. admit: an account with automations (one read; without, nothing
 *    else happens), only a user's message (not an echo of our own number,
 *    not a Meta `system` notice or a `reaction`, not from a blocked contact;
 *    never an edit or a deletion of an earlier message (they change it, they
 *    are not new messages: skipped, nothing stored), never a message in a
 *    WhatsApp group (no automatic reply to a group; the skip is stored on
 *    the group's message); echoes and history are `WhatsApp Message
 *    Recorded`, which the `automation` rule never routes);
 * 1. lock the conversation (one decision at a time per conversation: a
 *    conditional put with a lease, waited for with a short backoff, then a
 *    retryable failure so the queue delivers the message again later);
 * 2. claim `(phoneNumberId, wamid)` under the lock: `decided` means a
 *    delivery of this message was decided already (nothing happens),
 *    `in-progress` that a run holds it under a lease (retryable); a run that
 *    takes over an expired lease resumes the plan the stopped run saved;
 * 3. read the facts (the conversation, or what the event itself says of it
 *    when the inbox consumer has not stored it yet; the first-message marker;
 *    the session), ask `decide` for a plan and save it on the claim;
 * 4. carry the plan out in order: sessions (a new one takes its
 *    `chatbotSessions` unit in the same transaction), the fallback gate,
 *    assignments, flags, and sends, each through the reply safeguard (N
 *    automatic replies per conversation per 10 minutes) and the one send
 *    path of agent replies (`replies.ts`);
 * 5. store the decision on the inbox message and complete the claim; unlock.
 */
import type { AutomationDecision } from '../../schemas/automations.js';
import type { InboxMessageReceived } from '../../schemas/inbox.js';
import { processAiTurnDue } from './ai-turns.js';
import { decide } from './automation-engine.js';
import { PlanRun } from './automation-plan-run.js';
import type { AutomationSet, ConversationFacts, JudgedMessage } from './automation-ports.js';
import {
  type Admitted,
  type AutomationConsumerDeps,
  type AutomationEvent,
  type AutomationOutcome,
  DecisionInProgress,
  NOT_JUDGED_TYPES,
  type RunProgress,
  acquireLock,
} from './automation-run.js';
import { groupContactKey } from '../../schemas/whatsapp-ids.js';
import { type ContactIdentity, contactIdentity, senderOf } from './contact-id.js';
import { type ConversationRef, SERVICE_WINDOW_MS } from './inbox-ports.js';
import { amendmentOf, metaTime, nonEmpty } from './message-content.js';

export * from './automation-run.js';
export { stepMessage } from './automation-plan-run.js';

// --------------------------------------------------------------- the run

export async function processAutomationEvent(deps: AutomationConsumerDeps, event: AutomationEvent): Promise<AutomationOutcome> {
  if (event.kind === 'aiTurnDue') return processAiTurnDue(deps, event.detail);
  if (event.kind === 'sequenceStepDue') return deps.sequenceSteps ? `step: ${await deps.sequenceSteps(event.detail)}` : 'skipped: sequences are not configured';
  if (event.kind !== 'received') return 'ignored';
  // One Query; an account without automations pays nothing more (no lock, no claim, no decision stored).
  const automations = await deps.automations.loadSet(event.detail.accountId);
  if (!canAnswer(automations)) return 'skipped: no automations';
  const admitted = await admit(deps, event.detail);
  if (admitted.kind === 'skipped') return `skipped: ${admitted.why}`;
  const owner = deps.ids.newId('run');
  await acquireLock(deps, admitted.ref, owner);
  try {
    return await decideOnce(deps, admitted, automations);
  } finally {
    // Best effort: a lock left behind lapses with its lease.
    await deps.state.unlock(admitted.ref, owner).catch(() => undefined);
  }
}

type Admission = Admitted | { kind: 'skipped'; why: string };

/** Step 0: a user's new one-to-one message, from a contact who is not blocked. */
async function admit(deps: AutomationConsumerDeps, detail: InboxMessageReceived): Promise<Admission> {
  const { message, contact } = detail;
  if (message.from !== undefined && digits(message.from) === detail.whatsapp_phno) return { kind: 'skipped', why: 'echo of the number itself' };
  // An edit or a deletion changes a message the automations saw already: nothing to answer, nothing to store.
  if (amendmentOf(message)) return { kind: 'skipped', why: `a ${amendmentOf(message)!.kind} of an earlier message` };
  const groupId = nonEmpty(message.group_id);
  const sender = senderOf(message, contact);
  const identity = groupId ? { contactKey: groupContactKey(groupId) } : await resolveIdentity(deps, detail, sender);
  if (!identity) return { kind: 'skipped', why: 'no sender' };
  const rawTo = sender.waId;
  const ref: ConversationRef = { accountId: detail.accountId, whatsappPhno: detail.whatsapp_phno, contactKey: identity.contactKey };
  const timestamp = metaTime(message.timestamp, detail.receivedAt);
  const skip = async (why: string): Promise<Admission> => {
    // Stored with the message, so an operator sees why nothing answered it.
    await deps.inbox.recordDecision(ref, message.id, timestamp, {
      decidedBy: 'admit',
      reason: `not judged: ${why}`,
      replies: [],
      decidedAt: deps.clock.now().toISOString(),
    });
    return { kind: 'skipped', why };
  };
  if (groupId) return skip('a group message (automations answer one-to-one conversations only)');
  if (NOT_JUDGED_TYPES.has(message.type)) return skip(`a ${message.type} message`);
  const stored = await deps.inbox.getContact(ref);
  if (stored?.blocked) return skip('the contact is blocked');
  return {
    kind: 'admitted',
    detail,
    ref,
    target: { phoneNumberId: detail.phoneNumberId, to: rawTo ?? identity.userId ?? identity.contactKey, identity },
    ...(stored ? { contact: stored } : {}),
    message: judgedMessage(message, timestamp),
    timestamp,
  };
}

async function resolveIdentity(deps: AutomationConsumerDeps, detail: InboxMessageReceived, given: { waId?: string; userId?: string }): Promise<ContactIdentity | undefined> {
  const identity = contactIdentity(given);
  if (!identity || identity.waId || !identity.userId) return identity;
  // A username-only user we once saw with a number stays the contact we know (as in the inbox).
  const known = await deps.inbox.contactKeyForUserId(detail.accountId, detail.whatsapp_phno, identity.userId);
  return known ? { ...identity, contactKey: known, waId: known } : identity;
}

/** The words the user wrote or picked, and the id of a button or row of ours they chose. */
export function judgedMessage(message: InboxMessageReceived['message'], timestamp: string): JudgedMessage {
  const type = message.type;
  const part = objectAt(message, type);
  let text: string | undefined;
  let replyId: string | undefined;
  if (type === 'text') text = nonEmpty(part?.body);
  else if (type === 'interactive') {
    const kind = nonEmpty(part?.type);
    const chosen = kind === 'button_reply' || kind === 'list_reply' ? objectAt(part, kind) : undefined;
    text = nonEmpty(chosen?.title);
    replyId = nonEmpty(chosen?.id);
  } else if (type === 'button') {
    text = nonEmpty(part?.text);
    replyId = nonEmpty(part?.payload);
  } else if (type === 'image' || type === 'video' || type === 'document') text = nonEmpty(part?.caption);
  return { wamid: message.id, type, ...(text !== undefined ? { text } : {}), ...(replyId !== undefined ? { replyId } : {}), sentAt: new Date(timestamp) };
}

/** Whether anything in the set can answer a message or assign it (reply material alone cannot). */
function canAnswer(set: AutomationSet): boolean {
  return set.keywords.length > 0 || set.defaultActions.length > 0 || set.routes.length > 0 || set.chatbots.size > 0 || set.aiAgents.size > 0 || set.sequences.size > 0;
}

async function decideOnce(deps: AutomationConsumerDeps, admitted: Admitted, automations: AutomationSet): Promise<AutomationOutcome> {
  const { detail, ref, message } = admitted;
  const { phoneNumberId } = detail;
  const wamid = message.wamid;
  const { claim, progress: resumed } = await deps.state.claimRun(phoneNumberId, wamid, deps.clock.now(), deps.settings.leaseSeconds);
  if (claim === 'decided') return 'duplicate';
  if (claim === 'in-progress') throw new DecisionInProgress(wamid);

  const run: { progress?: RunProgress } = resumed ? { progress: resumed } : {};
  try {
    await planAndCarryOut(deps, admitted, automations, run);
    const decision = decisionOf(run.progress!, deps.clock.now().toISOString());
    // The message first: a failure between the two leaves the claim in progress, and the run that takes over writes both.
    await deps.inbox.recordDecision(ref, wamid, admitted.timestamp, decision);
    await deps.state.complete(phoneNumberId, wamid, ref, decision);
    return 'decided';
  } catch (error) {
    // What was done stays done (in `progress`): the next delivery takes over from there, without waiting for the lease.
    await deps.state.release(phoneNumberId, wamid, run.progress).catch(() => undefined);
    throw error;
  }
}

/** Reads the facts and decides (unless resuming a saved plan), then carries the plan out. */
async function planAndCarryOut(deps: AutomationConsumerDeps, admitted: Admitted, automations: AutomationSet, run: { progress?: RunProgress }): Promise<void> {
  const { detail, ref, message } = admitted;
  const { phoneNumberId } = detail;
  const wamid = message.wamid;
  const [conversation, session, aiAgent] = await Promise.all([
    deps.inbox.getConversation(ref),
    deps.state.getSession(ref),
    automations.aiAgents.size > 0 && deps.ai ? deps.ai.state.get(ref) : undefined,
  ]);
  // The message opened (or extended) the window, whether or not the inbox consumer has stored it yet.
  const windowOpenUntil = later(conversation?.windowOpenUntil, new Date(message.sentAt.getTime() + SERVICE_WINDOW_MS).toISOString());
  let progress = run.progress;
  if (!progress) {
    const facts: ConversationFacts = {
      ref,
      firstMessage: await isFirstMessage(deps, admitted),
      windowOpenUntil,
      ...(conversation?.assignedTeamId ? { assignedTeamId: conversation.assignedTeamId } : {}),
      ...(conversation?.lastAgentReplyAt ? { lastAgentReplyAt: conversation.lastAgentReplyAt } : {}),
    };
    const plan = decide({ message, conversation: facts, ...(session ? { session } : {}), ...(aiAgent ? { aiAgent } : {}), automations, now: deps.clock.now() });
    progress = run.progress = { plan, done: 0, replies: [], notes: [] };
    // Saved before anything changes, so a run taking over carries out this plan, not a new one.
    if (plan.actions.length > 0) await deps.state.saveProgress(phoneNumberId, wamid, progress);
  }

  await new PlanRun(deps, admitted, automations, session, windowOpenUntil, progress).carryOut();
}

/** The contact's first message on this number: never when the inbox knew the contact from an earlier message. */
async function isFirstMessage(deps: AutomationConsumerDeps, { contact, ref, message, timestamp }: Admitted): Promise<boolean> {
  if (contact && contact.firstSeenAt < timestamp) return false;
  return deps.state.firstMessage(ref, message.wamid, timestamp);
}

function decisionOf(progress: RunProgress, decidedAt: string): AutomationDecision {
  const { plan } = progress;
  return {
    decidedBy: plan.decidedBy,
    reason: [plan.reason, ...progress.notes].join('; '),
    ...(plan.automation ? { automation: plan.automation } : {}),
    replies: progress.replies,
    ...(progress.assigned ? { assigned: progress.assigned } : {}),
    ...(progress.flaggedForAgent ? { flaggedForAgent: progress.flaggedForAgent } : {}),
    ...(progress.sequences?.length ? { sequences: progress.sequences } : {}),
    decidedAt,
  };
}

function later(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}

function digits(value: string): string {
  return value.replace(/\D/g, '');
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  const inner = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : undefined;
}
