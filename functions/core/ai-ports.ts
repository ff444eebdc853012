/**
 * AI agents (docs/automations.md, "AI agents"): the answerer port (Amazon
 * Bedrock in AWS, a local knowledge matcher in the local runtime and tests)
 * and the per-conversation state the consumer keeps (the agent active on a
 * conversation, its debounced turn, the `aiResponses` unit of each answer).
 */
import type { AiTurnDue } from '../../schemas/automation-timers.js';
import { BackendFailure } from './backend-failures.js';
import type { ConversationRef } from './inbox-ports.js';

// ----------------------------------------------------------------- answerer

export interface KnowledgeQuestion {
  agent: { id: string; name: string; instructions: string; knowledge: readonly string[] };
  /** Recent messages of the conversation before this turn, oldest first. */
  history: { from: 'contact' | 'business'; text: string }[];
  /** What the contact wrote in this turn (the messages within the debounce window, joined by newlines). */
  question: string;
}

export type HandoffReason = 'not-grounded' | 'asked-for-human' | 'quota-exceeded' | 'provider-refused';

export type KnowledgeAnswer =
  /** `sources`: indexes into `agent.knowledge` the answer is grounded in (at least one). */
  | { kind: 'answer'; text: string; sources: number[] }
  | { kind: 'handoff'; reason: Exclude<HandoffReason, 'quota-exceeded'>; detail?: string };

export interface AiAnswerer {
  /** Names the answerer on the stored message: `bedrock:{modelId}`, `local-knowledge-match`. */
  readonly model: string;
  /**
   * Answers from the agent's knowledge only. Throws `AiProviderBusy` when the
   * provider throttles or is unavailable (the turn is tried again later); a
   * request the provider refuses for good is a `handoff` with `provider-refused`.
   */
  answer(question: KnowledgeQuestion): Promise<KnowledgeAnswer>;
}

/** The model provider throttled or was unavailable: the turn is retried (its unit stays reserved under the same key). */
export class AiProviderBusy extends BackendFailure {
  readonly code = 'AI_PROVIDER_BUSY';
  override readonly retryable = true;
  constructor(detail: string) {
    super(`The AI model provider is busy: ${detail}`);
  }
}

// --------------------------------------------------------------- the state

export type TurnStatus = 'open' | 'answering' | 'answered';

/** The contact's messages waiting for one answer: those within the debounce window of each other. */
export interface AiTurn {
  /** The wamid of the turn's first message. */
  id: string;
  wamids: string[];
  texts: string[];
  /** The last message to join: only the due event naming it may answer. */
  lastWamid: string;
  /** When the last message joined (our clock): the turn is due `debounce` after this. */
  lastAt: string;
  status: TurnStatus;
  /** While `answering`: a run holds it until then (a crashed run's turn is taken over after). */
  leaseUntilMs?: number;
  /** Once answered: what was sent (or why not). */
  outcome?: string;
  answerWamid?: string;
}

/** The AI agent on one conversation. Lapses 24 h after the contact's last message (the conversation closes). */
export interface AiConversation {
  aiAgentId: string;
  /** `handedOff`: people have it; the agent answers nothing more until the conversation closes. */
  status: 'active' | 'handedOff';
  startedAt: string;
  /** The wamid that started the agent on the conversation. */
  startedBy: string;
  lastMessageAt: string;
  handedOffAt?: string;
  handoffReason?: string;
  turn?: AiTurn;
}

export interface AddToTurn {
  ref: ConversationRef;
  aiAgentId: string;
  wamid: string;
  text: string;
  /** Our clock when the message joins. */
  at: string;
  /** When the agent lapses on the conversation without another message (24 h after this one). */
  expiresAt: string;
}

export type TurnClaim = 'claimed' | 'superseded' | 'answered' | 'in-progress' | 'missing';

export interface AiUnit {
  ref: ConversationRef;
  aiAgentId: string;
  /** The turn's last wamid: keys the unit (`ai:{whatsapp_phno}:{wamid}`), so a redelivery takes nothing more. */
  wamid: string;
  period: string;
  /** The account's `aiResponses` limit, for the period counter's first use. */
  limit: number;
  at: string;
}

export interface AiAgentState {
  /** The agent on the conversation, if one is and it has not lapsed. */
  get(ref: ConversationRef): Promise<AiConversation | undefined>;
  /**
   * Starts the agent on the conversation when none is (or it lapsed), and adds
   * the message to its open turn; a new turn starts when the last one is no
   * longer open. Idempotent by wamid: a message already in the turn changes
   * nothing. Answers the state after the write.
   */
  addToTurn(add: AddToTurn): Promise<AiConversation>;
  /**
   * Claims the turn for answering with a lease: only when its `lastWamid` is
   * `wamid` (else `superseded`) and it is `open` or `answering` with a lapsed
   * lease (else `answered` / `in-progress`); `missing` when there is no turn.
   */
  claimTurn(ref: ConversationRef, wamid: string, at: Date, leaseSeconds: number): Promise<TurnClaim>;
  /** Takes one `aiResponses` unit (ledger entry `ai:{whatsapp_phno}:{wamid}` and the period counter in one transaction). */
  takeUnit(unit: AiUnit): Promise<'taken' | 'replayed' | 'quota-exceeded'>;
  /** Gives the unit of `ai:{whatsapp_phno}:{wamid}` back (ledger entry `ai:{whatsapp_phno}:{wamid}:release`), once; nothing when none was taken. */
  releaseUnit(unit: AiUnit): Promise<void>;
  /** Marks the turn answered (guarded by `lastWamid`), with what happened. */
  completeTurn(ref: ConversationRef, wamid: string, result: { outcome: string; answerWamid?: string }, at: string): Promise<void>;
  /** People take over: the agent answers nothing more on the conversation until it lapses. */
  handOff(ref: ConversationRef, reason: string, at: string): Promise<void>;
  /** The agent leaves the conversation (`stop`, an agent's reply). */
  end(ref: ConversationRef): Promise<void>;
}

/** Puts an AI turn's due message on the automation queue after `delayMs` (SQS DelaySeconds in AWS, a timer locally). */
export interface TurnQueue {
  enqueue(due: AiTurnDue, delayMs: number): Promise<void>;
}
