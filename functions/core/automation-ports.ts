/**
 * The automation engine's types and ports (docs/automations.md). Three parts
 * meet here:
 * - `AutomationRepository`: the stored automations (CRUD for the API, one
 *   read of a whole account's set for the consumer);
 * - `decide` (`automation-engine.ts`): a pure function from a `DecisionInput`
 *   to a `Plan` (what won, why, and the actions to take, in order);
 * - the consumer (`automation-consumer.ts`), which admits and claims a message,
 *   reads the input, asks `decide`, and carries the plan out through
 *   `AutomationState` (claims, locks, sessions with their quota unit, rate
 *   counters) and the same send path as agent replies.
 */
import type { AutomationBody, AutomationDecision, AutomationKind, ReplyContent } from '../../schemas/automations.js';
import type { AiConversation } from './ai-ports.js';
import type { ConversationRef } from './inbox-ports.js';
import type { Page, PageRequest } from './ports.js';

// ------------------------------------------------------------ stored items

/** One stored automation of any kind: its body as the API validated it, and its identity. */
export interface StoredAutomation<K extends AutomationKind = AutomationKind> {
  accountId: string;
  kind: K;
  id: string;
  body: AutomationBody<K>;
  createdAt: string;
  updatedAt: string;
}

/** Every automation of an account, by kind: what `decide` judges a message against. */
export interface AutomationSet {
  keywords: StoredAutomation<'keywords'>[];
  defaultActions: StoredAutomation<'default-actions'>[];
  routes: StoredAutomation<'routes'>[];
  chatbots: ReadonlyMap<string, StoredAutomation<'chatbots'>>;
  replyMaterial: ReadonlyMap<string, StoredAutomation<'reply-material'>>;
  /** In key order (oldest first): the first default answerer of a scope wins. */
  aiAgents: ReadonlyMap<string, StoredAutomation<'ai-agents'>>;
  sequences: ReadonlyMap<string, StoredAutomation<'sequences'>>;
}

export interface AutomationRepository {
  /** Stores a new automation; the id is new (no overwrite). */
  create<K extends AutomationKind>(item: StoredAutomation<K>): Promise<StoredAutomation<K>>;
  get<K extends AutomationKind>(accountId: string, kind: K, id: string): Promise<StoredAutomation<K> | undefined>;
  /** Oldest first; `whatsappPhno` narrows to the rules for that number plus the account-wide ones. */
  list<K extends AutomationKind>(accountId: string, kind: K, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredAutomation<K>>>;
  /** Replaces the body; undefined when there is no such automation. */
  replace<K extends AutomationKind>(accountId: string, kind: K, id: string, body: AutomationBody<K>, at: string): Promise<StoredAutomation<K> | undefined>;
  /** False when there was nothing to delete. */
  delete(accountId: string, kind: AutomationKind, id: string): Promise<boolean>;
  /** Every automation of the account (one Query), for the consumer. */
  loadSet(accountId: string): Promise<AutomationSet>;
}

// ------------------------------------------------------------ the decision

/** The inbound message being judged, as the consumer read it from the bus event. */
export interface JudgedMessage {
  wamid: string;
  /** Meta's message type (`text`, `interactive`, `button`, `image`, …). */
  type: string;
  /** The text the user wrote (text body, button text, list/button reply title), raw. */
  text?: string;
  /** The id of the reply button or list row the user chose, when they chose one. */
  replyId?: string;
  /** Meta's timestamp: out-of-office is judged on it, not on when we process the message. */
  sentAt: Date;
}

/** The chatbot session open on (number, contact), if any. */
export interface ChatbotSession {
  chatbotId: string;
  stepId: string;
  /** Invalid answers at the current step so far. */
  retries: number;
  startedAt: string;
  /** The last time the bot sent a step or the user answered one. */
  lastActivityAt: string;
  /** The wamid whose message started the session (its quota unit is keyed by it). */
  startedBy: string;
}

/** What the consumer knows of the conversation when it asks `decide`. */
export interface ConversationFacts {
  ref: ConversationRef;
  /** True for the contact's first message on this number (welcome). */
  firstMessage: boolean;
  assignedTeamId?: string;
  /** The last reply an agent (not an automation) sent. */
  lastAgentReplyAt?: string;
  /** The 24-hour window the user's messages opened, including this one. */
  windowOpenUntil?: string;
}

export interface DecisionInput {
  message: JudgedMessage;
  conversation: ConversationFacts;
  session?: ChatbotSession;
  /** The AI agent on the conversation, if one is. */
  aiAgent?: AiConversation;
  automations: AutomationSet;
  now: Date;
}

/** A message to send, as the plan names it (the consumer renders and sends it). */
export type OutgoingReply =
  | { type: 'text'; text: string }
  | { type: 'material'; replyMaterialId: string; content: ReplyContent }
  /** A chatbot step: interactive buttons (≤ 3 options), a list (more), or plain text (none). */
  | { type: 'step'; chatbotId: string; stepId: string }
  | { type: 'retry'; chatbotId: string; stepId: string; text: string };

/** One thing the consumer does, in the order the plan lists them. */
export type PlanAction =
  | { type: 'send'; reply: OutgoingReply }
  /** Takes one `chatbotSessions` unit and opens the session at the chatbot's first step, then sends it. */
  | { type: 'startSession'; chatbotId: string }
  | { type: 'advanceSession'; chatbotId: string; stepId: string }
  | { type: 'retrySession'; chatbotId: string; stepId: string; retries: number }
  | { type: 'endSession'; reason: 'exitWord' | 'completed' | 'retriesExhausted' | 'agent' | 'expired' }
  | { type: 'assign'; teamId: string; routeId?: string; members: string[] }
  /** Only at most once per 30 minutes per conversation: the consumer checks before sending. */
  | { type: 'fallbackGate' }
  | { type: 'flagForAgent'; reason: string }
  /** Starts the AI agent on the conversation (or keeps it) and adds the message to its turn, answered after the debounce window. */
  | { type: 'aiTurn'; aiAgentId: string }
  /** The AI agent leaves the conversation. */
  | { type: 'endAgent'; reason: 'stop' | 'agent' | 'expired' }
  /** The contact wrote: every active enrolment of the conversation ends (but the one this message enrols in). */
  | { type: 'leaveSequences'; reason: 'replied' | 'stop'; except?: string }
  | { type: 'enrollSequence'; sequenceId: string };

export interface Plan {
  decidedBy: AutomationDecision['decidedBy'];
  reason: string;
  automation?: { kind: AutomationKind; id: string };
  actions: PlanAction[];
}

// ---------------------------------------------------------- consumer state

export type ClaimResult = 'claimed' | 'decided' | 'in-progress';

export interface StartSession {
  ref: ConversationRef;
  chatbotId: string;
  stepId: string;
  /** The triggering wamid: keys the quota unit, so a redelivery takes nothing more. */
  wamid: string;
  period: string;
  /** The account's `chatbotSessions` limit, for the period counter's first use. */
  limit: number;
  at: string;
  /** When an unanswered session lapses (24 h). */
  expiresAt: string;
}

export interface AutomationState {
  /** Claims the decision for `(phoneNumberId, wamid)`: `decided` when a decision was stored already, `in-progress` while another run holds it. */
  claim(phoneNumberId: string, wamid: string, at: Date, leaseSeconds: number): Promise<ClaimResult>;
  /** Stores the decision, completing the claim; the message item shows it. */
  complete(phoneNumberId: string, wamid: string, ref: ConversationRef, decision: AutomationDecision): Promise<void>;
  /** One decision at a time per conversation: false while another holds the lock. */
  lock(ref: ConversationRef, owner: string, at: Date, leaseSeconds: number): Promise<boolean>;
  unlock(ref: ConversationRef, owner: string): Promise<void>;
  getSession(ref: ConversationRef): Promise<ChatbotSession | undefined>;
  /** Takes the quota unit and opens the session in one transaction; `replayed` when this wamid already did. */
  startSession(start: StartSession): Promise<'started' | 'replayed' | 'quota-exceeded'>;
  /** Moves the session on, guarded by the step it was read at. */
  updateSession(ref: ConversationRef, from: Pick<ChatbotSession, 'stepId' | 'retries'>, to: Pick<ChatbotSession, 'stepId' | 'retries'>, at: string): Promise<boolean>;
  endSession(ref: ConversationRef): Promise<void>;
  /** Counts one automatic reply in the conversation's 10-minute bucket; false when `max` were sent already. */
  countReply(ref: ConversationRef, bucket: string, max: number): Promise<boolean>;
  /** True (and marks it) when no fallback went to the conversation since `since`. */
  claimFallback(ref: ConversationRef, at: string, since: string): Promise<boolean>;
  /** The next member of a route's round robin, moved by a conditional write. */
  nextMember(accountId: string, routeId: string, members: readonly string[]): Promise<string>;
  /** Marks the conversation as needing an agent. */
  flagForAgent(ref: ConversationRef, reason: string, at: string): Promise<void>;
}
