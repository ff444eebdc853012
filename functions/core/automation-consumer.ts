/**
 * The automation consumer (docs/automations.md, "The consumer: claims, locks,
 * sessions, safeguards"): one decision per inbound message, carried out once
 * however often the message is delivered.
 *
 * For each `WhatsApp Message Received` event of the `automation` rule:
 * 0. admit: an account with automations (one read; without, nothing
 *    else happens), only a user's message (not an echo of our own number,
 *    not a Meta `system` notice or a `reaction`, not from a blocked contact);
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
import { decide, optionReplyId } from './automation-engine.js';
import type {
  AutomationRepository,
  AutomationSet,
  AutomationState,
  ChatbotSession,
  ClaimResult,
  ConversationFacts,
  JudgedMessage,
  OutgoingReply,
  Plan,
  PlanAction,
  StoredAutomation,
} from './automation-ports.js';
import { BackendFailure, MalformedRecord } from './backend-failures.js';
import { type ContactIdentity, contactIdentity } from './contact-id.js';
import { AppError, NotFound } from './errors.js';
import { type ConversationRef, type InboxRepository, SERVICE_WINDOW_MS, type StoredContact } from './inbox-ports.js';
import { metaTime, nonEmpty } from './message-content.js';
import type { MessageSender } from './messaging.js';
import { billingPeriod, counterLimit } from './plan.js';
import type { AccountRepository, Clock, IdGenerator } from './ports.js';
import { type OutgoingMessage, type ReplyTarget, replyTo } from './replies.js';
import { type RenderContext, renderReply, renderText } from './reply-render.js';

// ------------------------------------------------------------------ model

/** What one record of the automation queue asks. */
export type AutomationEvent = { kind: 'received'; detail: InboxMessageReceived } | { kind: 'ignored'; detailType: string };

export type AutomationOutcome = 'ignored' | 'duplicate' | 'decided' | `skipped: ${string}`;

export interface AutomationSettings {
  /** Automatic replies per conversation per 10-minute window; then the conversation is left for an agent. */
  maxRepliesPer10Min: number;
  /** How long a run waits for another run's lock on the conversation before failing (retryable). */
  lockWaitMs: number;
  /** Leases of the conversation lock and the decision claim: longer than a run can last (the function's timeout). */
  leaseSeconds: number;
}

export const DEFAULT_AUTOMATION_SETTINGS: AutomationSettings = { maxRepliesPer10Min: 10, lockWaitMs: 5_000, leaseSeconds: 60 };

/** Meta's notices and reactions are not messages to answer (docs/automations.md, "Admission"). */
export const NOT_JUDGED_TYPES: ReadonlySet<string> = new Set(['system', 'reaction']);

/** The reply safeguard counts in fixed windows of this length. */
export const REPLY_WINDOW_MS = 10 * 60 * 1000;
/** At most one fallback per conversation in this long. */
export const FALLBACK_INTERVAL_MS = 30 * 60 * 1000;
/** An unanswered session lapses after this long. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** The button that opens a chatbot step's list (Meta: ≤ 20 characters). */
export const LIST_BUTTON_TEXT = 'Choose an option';

/**
 * The plan a run made for a message and how far it got, kept on the claim:
 * a run taking over after a crash (or a retryable failure half-way) carries
 * on from `done` with the same plan instead of deciding again on state the
 * first run already changed.
 */
export interface RunProgress {
  plan: Plan;
  /** Actions of `plan.actions` carried out. */
  done: number;
  replies: AutomationDecision['replies'];
  assigned?: AutomationDecision['assigned'];
  flaggedForAgent?: string;
  /** What happened beside the plan (a spent quota, a gate that held, a missing step), added to the decision's reason. */
  notes: string[];
  /** No further sends: the session quota is spent or the reply safeguard stopped them. */
  halted?: boolean;
  /** A fallback gate that held: the sends after it are skipped. */
  gated?: boolean;
}

/** `AutomationState` with what resuming a run and first-message detection need. */
export interface AutomationRunState extends AutomationState {
  /** `claim`, answering also the progress an earlier run of this message left when it stopped. */
  claimRun(phoneNumberId: string, wamid: string, at: Date, leaseSeconds: number): Promise<{ claim: ClaimResult; progress?: RunProgress }>;
  /** Keeps the plan and its progress on the claim. */
  saveProgress(phoneNumberId: string, wamid: string, progress: RunProgress): Promise<void>;
  /**
   * Gives the claim's lease up (keeping `progress`, when given) after a
   * failure this run saw: the next delivery takes over at once instead of
   * waiting for the lease to run out, which only a crashed run needs.
   */
  release(phoneNumberId: string, wamid: string, progress?: RunProgress): Promise<void>;
  /**
   * True when `wamid` is the first message the consumer saw from the contact
   * on this number (a marker put once, naming it, so a repeat of the same
   * message answers true again and any other false).
   */
  firstMessage(ref: ConversationRef, wamid: string, at: string): Promise<boolean>;
}

export interface AutomationConsumerDeps {
  state: AutomationRunState;
  automations: Pick<AutomationRepository, 'loadSet'>;
  inbox: InboxRepository;
  messaging: MessageSender;
  accounts: Pick<AccountRepository, 'get'>;
  clock: Clock;
  ids: IdGenerator;
  settings: AutomationSettings;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

// ------------------------------------------------------------------ errors

/** Another run held the conversation's lock for longer than we wait: the message is delivered again later. */
export class ConversationBusy extends BackendFailure {
  readonly code = 'CONVERSATION_BUSY';
  override readonly retryable = true;
  constructor(ref: ConversationRef) {
    super(`Another automation run holds ${ref.whatsappPhno}/${ref.contactKey}; retry.`);
    this.name = 'ConversationBusy';
  }
}

/** A run holds the decision of this message under a lease that has not expired. */
export class DecisionInProgress extends BackendFailure {
  readonly code = 'DECISION_IN_PROGRESS';
  override readonly retryable = true;
  constructor(wamid: string) {
    super(`The decision on ${wamid} is being made by another run; retry.`);
    this.name = 'DecisionInProgress';
  }
}

/** A record of the automation queue its consumer cannot read. */
export class MalformedAutomationRecord extends MalformedRecord {
  override name = 'MalformedAutomationRecord';
}

// --------------------------------------------------------------- the run

export async function processAutomationEvent(deps: AutomationConsumerDeps, event: AutomationEvent): Promise<AutomationOutcome> {
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

/** An admitted message: who wrote, where, and what. */
interface Admitted {
  kind: 'admitted';
  detail: InboxMessageReceived;
  ref: ConversationRef;
  target: ReplyTarget;
  contact?: StoredContact;
  message: JudgedMessage;
  /** The message's time as the inbox lists it (Meta's, ISO). */
  timestamp: string;
}

type Admission = Admitted | { kind: 'skipped'; why: string };

/** Step 0: a user's message, from a contact who is not blocked. */
async function admit(deps: AutomationConsumerDeps, detail: InboxMessageReceived): Promise<Admission> {
  const { message, contact } = detail;
  if (message.from !== undefined && digits(message.from) === detail.whatsapp_phno) return { kind: 'skipped', why: 'echo of the number itself' };
  const rawTo = contact?.wa_id ?? message.from;
  const identity = await resolveIdentity(deps, detail, { waId: rawTo, userId: contact?.user_id ?? message.from_user_id });
  if (!identity) return { kind: 'skipped', why: 'no sender' };
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

async function acquireLock(deps: AutomationConsumerDeps, ref: ConversationRef, owner: string): Promise<void> {
  const { lockWaitMs, leaseSeconds } = deps.settings;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    if (await deps.state.lock(ref, owner, deps.clock.now(), leaseSeconds)) return;
    if (waited >= lockWaitMs) throw new ConversationBusy(ref);
    // Jittered, growing, capped: a run lasts tens of milliseconds, so the first waits are short.
    const pause = Math.min(lockWaitMs - waited, Math.ceil(Math.min(400, 20 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    await sleep(pause);
    waited += pause;
  }
}

/** Whether anything in the set can answer a message or assign it (reply material alone cannot). */
function canAnswer(set: AutomationSet): boolean {
  return set.keywords.length > 0 || set.defaultActions.length > 0 || set.routes.length > 0 || set.chatbots.size > 0;
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
  const [conversation, session] = await Promise.all([deps.inbox.getConversation(ref), deps.state.getSession(ref)]);
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
    const plan = decide({ message, conversation: facts, ...(session ? { session } : {}), automations, now: deps.clock.now() });
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
    decidedAt,
  };
}

/** Carries out one plan's actions in order, recording each outcome in `progress`. */
class PlanRun {
  private readonly now: Date;
  private readonly at: string;

  constructor(
    private readonly deps: AutomationConsumerDeps,
    private readonly admitted: Admitted,
    private readonly automations: AutomationSet,
    /** The session as read under the lock: the guard of its moves. */
    private session: ChatbotSession | undefined,
    private readonly windowOpenUntil: string,
    private readonly progress: RunProgress,
  ) {
    this.now = deps.clock.now();
    this.at = this.now.toISOString();
  }

  async carryOut(): Promise<void> {
    const { actions } = this.progress.plan;
    const { phoneNumberId } = this.admitted.detail;
    const wamid = this.admitted.message.wamid;
    while (this.progress.done < actions.length) {
      const index = this.progress.done;
      const action = actions[index]!;
      const next = actions[index + 1];
      // A retry text followed by its step goes out as one message: the step, the retry text before its question.
      const retry = action.type === 'send' && action.reply.type === 'retry' ? action.reply : undefined;
      const merged = retry !== undefined && isStepSend(next, retry.chatbotId, retry.stepId);
      const sent = merged ? await this.send({ type: 'step', chatbotId: retry.chatbotId, stepId: retry.stepId }, retry.text) : await this.apply(action);
      this.progress.done = index + (merged ? 2 : 1);
      // A message went out (or was refused): kept at once, so a run taking over never sends it again.
      if (sent) await this.deps.state.saveProgress(phoneNumberId, wamid, this.progress);
    }
  }

  /** One action; true when it tried to send. */
  private async apply(action: PlanAction): Promise<boolean> {
    const { state } = this.deps;
    const { ref } = this.admitted;
    switch (action.type) {
      case 'send':
        return this.send(action.reply);
      case 'startSession':
        return this.startSession(action.chatbotId);
      case 'advanceSession':
        await this.moveSession({ stepId: action.stepId, retries: 0 });
        return false;
      case 'retrySession':
        await this.moveSession({ stepId: action.stepId, retries: action.retries });
        return false;
      case 'endSession':
        await state.endSession(ref);
        this.session = undefined;
        return false;
      case 'fallbackGate': {
        const since = new Date(this.now.getTime() - FALLBACK_INTERVAL_MS).toISOString();
        if (!(await state.claimFallback(ref, this.at, since))) {
          this.progress.gated = true;
          this.progress.notes.push('fallback not sent: one went to this conversation in the last 30 minutes');
        }
        return false;
      }
      case 'assign': {
        const routeId = action.routeId ?? `team:${action.teamId}`;
        const userId = action.members.length > 0 ? await state.nextMember(ref.accountId, routeId, action.members) : undefined;
        await this.deps.inbox.assignTeam(ref, action.teamId, userId);
        this.progress.assigned = { teamId: action.teamId, ...(userId ? { userId } : {}), ...(action.routeId ? { routeId: action.routeId } : {}) };
        return false;
      }
      case 'flagForAgent':
        await this.flag(action.reason);
        return false;
    }
  }

  /** Takes the session's quota unit and opens it (one transaction), then sends its first step. */
  private async startSession(chatbotId: string): Promise<boolean> {
    const bot = this.automations.chatbots.get(chatbotId);
    const first = bot?.body.steps[0];
    if (!bot || !first) {
      this.progress.notes.push(`chatbot ${chatbotId} has no steps: no session`);
      return false;
    }
    const { ref, message } = this.admitted;
    const account = await this.deps.accounts.get(ref.accountId);
    if (!account) throw new NotFound('The account');
    const started = await this.deps.state.startSession({
      ref,
      chatbotId,
      stepId: first.id,
      wamid: message.wamid,
      period: billingPeriod(account.billingAnchor, this.now).key,
      limit: counterLimit(account, 'chatbotSessions'),
      at: this.at,
      expiresAt: new Date(this.now.getTime() + SESSION_TTL_MS).toISOString(),
    });
    if (started === 'quota-exceeded') {
      this.progress.replies.push({ outcome: 'QUOTA_EXCEEDED', preview: preview(first.text) });
      this.progress.notes.push(`the chatbotSessions quota is spent: no session, left for an agent`);
      this.progress.halted = true;
      await this.flag('QUOTA_EXCEEDED: chatbotSessions');
      return false;
    }
    this.session = { chatbotId, stepId: first.id, retries: 0, startedAt: this.at, lastActivityAt: this.at, startedBy: message.wamid };
    await this.send({ type: 'step', chatbotId, stepId: first.id });
    // A chatbot of one step without options has said all it has: the session is over at once.
    if (!first.options?.length) {
      await this.deps.state.endSession(ref);
      this.session = undefined;
    }
    return true;
  }

  private async moveSession(to: Pick<ChatbotSession, 'stepId' | 'retries'>): Promise<void> {
    if (!this.session) return;
    const moved = await this.deps.state.updateSession(this.admitted.ref, this.session, to, this.at);
    // Under the lock only a lapsed session moves meanwhile; the plan goes on either way.
    if (!moved) this.progress.notes.push(`the session had moved meanwhile (expected step ${this.session.stepId})`);
    this.session = { ...this.session, ...to, lastActivityAt: this.at };
  }

  private async flag(reason: string): Promise<void> {
    await this.deps.state.flagForAgent(this.admitted.ref, reason, this.at);
    this.progress.flaggedForAgent = reason;
  }

  /** One automatic reply through the safeguard and the shared send path; true when it tried. */
  private async send(reply: OutgoingReply, intro?: string): Promise<boolean> {
    if (this.progress.halted || this.progress.gated) return false;
    const message = this.render(reply, intro);
    if (!message) return false;
    const shown = previewOf(message);
    const freeForm = message.type !== 'template';
    if (freeForm && Date.parse(this.windowOpenUntil) <= this.now.getTime()) {
      this.progress.replies.push({ outcome: 'WINDOW_CLOSED', preview: shown });
      return true;
    }
    const { ref, target } = this.admitted;
    const bucket = new Date(Math.floor(this.now.getTime() / REPLY_WINDOW_MS) * REPLY_WINDOW_MS).toISOString();
    if (!(await this.deps.state.countReply(ref, bucket, this.deps.settings.maxRepliesPer10Min))) {
      this.progress.replies.push({ outcome: 'RATE_LIMITED', preview: shown });
      this.progress.notes.push(`more than ${this.deps.settings.maxRepliesPer10Min} automatic replies in 10 minutes: left for an agent`);
      this.progress.halted = true;
      await this.flag('RATE_LIMITED: automatic replies');
      return true;
    }
    try {
      const result = await replyTo(this.deps, ref, message, { by: 'automation', target, windowOpenUntil: this.windowOpenUntil });
      this.progress.replies.push(result.outcome === 'sent' ? { wamid: result.wamid, outcome: 'sent', preview: shown } : { outcome: result.outcome, preview: shown });
    } catch (error) {
      // Throttles and outages pass later (the message comes back); a refusal of this message is its outcome.
      if (!(error instanceof AppError) || error.retryable) throw error;
      this.progress.replies.push({ outcome: 'SEND_FAILED', preview: shown });
      this.progress.notes.push(`a reply was refused: ${error.code}`);
    }
    return true;
  }

  private render(reply: OutgoingReply, intro?: string): OutgoingMessage | undefined {
    const context = this.renderContext();
    switch (reply.type) {
      case 'text':
      case 'retry':
        return { type: 'text', text: renderText(reply.text, context) };
      case 'material':
        return materialMessage(renderReply(reply.content, context));
      case 'step': {
        const bot = this.automations.chatbots.get(reply.chatbotId);
        const step = bot?.body.steps.find((s) => s.id === reply.stepId);
        if (!bot || !step) {
          this.progress.notes.push(`step ${reply.stepId} of chatbot ${reply.chatbotId} is missing: not sent`);
          return undefined;
        }
        return stepMessage(bot, step, context, intro === undefined ? undefined : renderText(intro, context));
      }
    }
  }

  private renderContext(): RenderContext {
    const { contact, detail } = this.admitted;
    const name = contact?.name ?? nonEmpty(detail.contact?.profile?.name);
    return {
      whatsapp_phno: detail.whatsapp_phno,
      ...(name ? { name } : {}),
      attributes: { ...(contact?.attributes ?? {}), whatsapp_phno: detail.whatsapp_phno },
    };
  }
}

// ---------------------------------------------------------------- helpers

type Step = StoredAutomation<'chatbots'>['body']['steps'][number];

/** A step as WhatsApp shows it: reply buttons for up to 3 options, a list for more, plain text without. */
export function stepMessage(bot: StoredAutomation<'chatbots'>, step: Step, context: RenderContext, intro?: string): OutgoingMessage {
  const body = renderText(step.text, context);
  const text = intro ? `${intro}\n\n${body}` : body;
  const options = step.options ?? [];
  const choices = options.map((option, index) => ({ id: optionReplyId(bot.id, step.id, index), title: option.title }));
  if (choices.length === 0) return { type: 'text', text };
  if (choices.length <= 3) return { type: 'buttons', text, buttons: choices };
  return { type: 'list', text, buttonText: LIST_BUTTON_TEXT, rows: choices };
}

function materialMessage(content: ReturnType<typeof renderReply>): OutgoingMessage {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: content.text };
    case 'image':
      return { type: 'image', url: content.url, ...(content.caption ? { caption: content.caption } : {}) };
    case 'document':
      return { type: 'document', url: content.url, ...(content.filename ? { filename: content.filename } : {}), ...(content.caption ? { caption: content.caption } : {}) };
    case 'template':
      return { type: 'template', name: content.name, language: content.language, ...(content.components ? { components: content.components } : {}) };
  }
}

function isStepSend(action: PlanAction | undefined, chatbotId: string, stepId: string): boolean {
  return action?.type === 'send' && action.reply.type === 'step' && action.reply.chatbotId === chatbotId && action.reply.stepId === stepId;
}

function previewOf(message: OutgoingMessage): string {
  switch (message.type) {
    case 'text':
    case 'buttons':
    case 'list':
      return preview(message.text);
    case 'image':
    case 'document':
      return preview(message.caption ?? `[${message.type}] ${message.url}`);
    case 'template':
      return `[template] ${message.name}`;
  }
}

function preview(text: string): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
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
