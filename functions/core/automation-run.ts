/**
 * The automation consumer's model, shared by its parts: the settings, the
 * run state port (`AutomationRunState`, claims with the plan's progress), the
 * consumer's dependencies, an admitted message, the conversation lock and
 * the failures a retry resolves. The run itself is `automation-consumer.ts`
 * (admission, claim, decision), the plan's execution `automation-plan-run.ts`,
 * an AI agent's debounced turn `ai-turns.ts` (docs/automations.md).
 */
import type { AiAnswerMeta, AutomationDecision } from '../../schemas/automations.js';
import type { AiTurnDue, SequenceStepDue } from '../../schemas/automation-timers.js';
import type { InboxMessageReceived } from '../../schemas/inbox.js';
import type { AiAgentState, AiAnswerer, TurnQueue } from './ai-ports.js';
import type { AutomationRepository, AutomationState, ClaimResult, JudgedMessage, Plan } from './automation-ports.js';
import { BackendFailure, MalformedRecord } from './backend-failures.js';
import { AppError } from './errors.js';
import type { ConversationRef, InboxRepository, StoredContact } from './inbox-ports.js';
import type { MessageSender } from './messaging.js';
import type { AccountRepository, Clock, IdGenerator } from './ports.js';
import { type OutgoingMessage, type ReplyTarget, replyTo } from './replies.js';
import type { SequenceEnrolments } from './sequence-ports.js';

// ------------------------------------------------------------------ model

/** What one record of the automation queue asks. */
export type AutomationEvent =
  | { kind: 'received'; detail: InboxMessageReceived }
  | { kind: 'aiTurnDue'; detail: AiTurnDue }
  | { kind: 'sequenceStepDue'; detail: SequenceStepDue }
  | { kind: 'ignored'; detailType: string };

export type AutomationOutcome = 'ignored' | 'duplicate' | 'decided' | `skipped: ${string}` | `turn: ${string}` | `step: ${string}`;

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
  /** Sequences enrolled in or left. */
  sequences?: AutomationDecision['sequences'];
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
  /** AI agents: their state, the answerer, and the queue their debounced turns wait on (absent: AI agents are skipped). */
  ai?: AiDeps;
  /** Sequences: enrolments made and left by inbound messages (absent: sequence actions are skipped). */
  sequences?: SequenceEnrolments;
  /** Runs a due sequence step (`sequence-runner.ts`, bound to its own dependencies). */
  sequenceSteps?: (due: SequenceStepDue) => Promise<string>;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

export interface AiDeps {
  state: AiAgentState;
  answerer: AiAnswerer;
  turns: TurnQueue;
  /** Messages of one contact within this long of each other get one answer. */
  debounceMs: number;
  /** Earlier messages of the conversation given to the model as context. */
  historyMessages: number;
  /** Reads an AI agent (the turn answers with the agent as it is then). */
  automations: Pick<AutomationRepository, 'get'>;
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

/** An admitted message: who wrote, where, and what. */
export interface Admitted {
  kind: 'admitted';
  detail: InboxMessageReceived;
  ref: ConversationRef;
  target: ReplyTarget;
  contact?: StoredContact;
  message: JudgedMessage;
  /** The message's time as the inbox lists it (Meta's, ISO). */
  timestamp: string;
}

/** One run at a time per conversation: the lock, waited for with a short jittered backoff, then a retryable failure. */
export async function acquireLock(deps: AutomationConsumerDeps, ref: ConversationRef, owner: string): Promise<void> {
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

export type AutomaticReply = { outcome: 'sent'; wamid: string } | { outcome: 'WINDOW_CLOSED' | 'RATE_LIMITED' } | { outcome: 'SEND_FAILED'; code: string };

/**
 * One automatic reply (a plan's send, an AI answer, a handoff message):
 * nothing free-form outside the window, then the reply safeguard (N per
 * conversation per 10 minutes), then the one send path of agent replies.
 * A refusal of this message is its outcome; a throttle or an outage is
 * thrown, so the record comes back. Flagging a `RATE_LIMITED` conversation
 * is the caller's.
 */
export async function sendAutomaticReply(
  deps: AutomationConsumerDeps,
  ref: ConversationRef,
  message: OutgoingMessage,
  options: { target: ReplyTarget; windowOpenUntil: string; now: Date; ai?: AiAnswerMeta },
): Promise<AutomaticReply> {
  const { target, windowOpenUntil, now } = options;
  if (message.type !== 'template' && Date.parse(windowOpenUntil) <= now.getTime()) return { outcome: 'WINDOW_CLOSED' };
  const bucket = new Date(Math.floor(now.getTime() / REPLY_WINDOW_MS) * REPLY_WINDOW_MS).toISOString();
  if (!(await deps.state.countReply(ref, bucket, deps.settings.maxRepliesPer10Min))) return { outcome: 'RATE_LIMITED' };
  try {
    return await replyTo(deps, ref, message, { by: 'automation', target, windowOpenUntil, ...(options.ai ? { ai: options.ai } : {}) });
  } catch (error) {
    if (!(error instanceof AppError) || error.retryable) throw error;
    return { outcome: 'SEND_FAILED', code: error.code };
  }
}
