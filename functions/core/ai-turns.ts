/**
 * An AI agent's turn (docs/automations.md, "AI agents"): the contact's
 * messages that arrived within the debounce window of each other, answered
 * once. The automation consumer adds each message to the turn and queues an
 * `AI Turn Due` naming it; when one falls due:
 *
 * 1. under the conversation lock, only the due message of the turn's LAST
 *    message may answer (an earlier one is `superseded`), and only once the
 *    window has passed since it (else it waits again for the rest);
 * 2. the turn is claimed with a lease (a redelivery of an answered turn does
 *    nothing; a crashed run's turn is taken over when the lease lapses);
 * 3. a contact asking for a person is handed off at once (no unit, no model);
 * 4. one `aiResponses` unit is taken BEFORE the model call, keyed by the
 *    turn's last wamid (`ai:{whatsapp_phno}:{wamid}`): a retried turn takes nothing more; a
 *    spent quota is a handoff;
 * 5. the answerer answers from the agent's knowledge, or says it has no
 *    grounded answer (a handoff); a busy provider fails the record, and the
 *    queue brings it back (the unit stays reserved under its key);
 * 6. the answer goes out through the reply safeguard and the one send path,
 *    stored with its knowledge sources; nothing sent gives the unit back.
 *
 * A handoff assigns the agent's handoff team (or flags the conversation for
 * an agent), tells the contact the handoff message, and leaves the agent
 * silent on the conversation until it closes.
 */
import type { AiTurnDue } from '../../schemas/automation-timers.js';
import type { AiAnswerMeta } from '../../schemas/automations.js';
import type { AiTurn, AiUnit, HandoffReason, KnowledgeAnswer } from './ai-ports.js';
import type { StoredAutomation } from './automation-ports.js';
import { type AiDeps, type AutomationConsumerDeps, DecisionInProgress, acquireLock, sendAutomaticReply } from './automation-run.js';
import { AppError, NotFound } from './errors.js';
import { type ConversationRef, SERVICE_WINDOW_MS } from './inbox-ports.js';
import { billingPeriod, counterLimit } from './plan.js';
import type { OutgoingMessage, ReplyTarget } from './replies.js';
import { normalise } from './text-normalise.js';

/** Said to the contact on a handoff when the agent names no message. */
export const DEFAULT_HANDOFF_MESSAGE = 'I am passing you to a colleague, who will answer you here shortly.';

/**
 * Phrases (normalised, whole words) by which a contact asks for a person, in
 * English and Portuguese. Checked before the model: asking costs no unit.
 */
export const HUMAN_REQUESTS: readonly string[] = [
  'human',
  'a person',
  'real person',
  'an agent',
  'talk to someone',
  'speak to someone',
  'customer service',
  'atendente',
  'humano',
  'pessoa',
  'falar com alguem',
];

/** How many earlier messages are read to give the model its context (oldest first; the last `historyMessages` are used). */
const HISTORY_READ = 200;

export type TurnOutcome = `turn: ${string}`;

interface Turn {
  deps: AutomationConsumerDeps;
  ai: AiDeps;
  due: AiTurnDue;
  ref: ConversationRef;
  target: ReplyTarget;
  now: Date;
  at: string;
  /** The turn as read under the lock. */
  current: AiTurn;
}

export async function processAiTurnDue(deps: AutomationConsumerDeps, due: AiTurnDue): Promise<TurnOutcome> {
  const ai = deps.ai;
  if (!ai) return 'turn: skipped (AI agents are not configured)';
  const ref: ConversationRef = { accountId: due.accountId, whatsappPhno: due.whatsapp_phno, contactKey: due.contactKey };
  const owner = deps.ids.newId('turn');
  await acquireLock(deps, ref, owner);
  try {
    const now = deps.clock.now();
    const target: ReplyTarget = {
      phoneNumberId: due.phoneNumberId,
      to: due.to,
      identity: { contactKey: due.contactKey, ...(due.waId ? { waId: due.waId } : {}), ...(due.userId ? { userId: due.userId } : {}) },
    };
    return await answerTurn({ deps, ai, due, ref, target, now, at: now.toISOString() });
  } finally {
    await deps.state.unlock(ref, owner).catch(() => undefined);
  }
}

async function answerTurn(base: Omit<Turn, 'current'>): Promise<TurnOutcome> {
  const { ai, due, ref, now } = base;
  const on = await ai.state.get(ref);
  const current = on?.turn;
  if (!on || !current) return 'turn: stale (no turn)';
  const turn: Turn = { ...base, current };
  if (current.lastWamid !== due.wamid) return 'turn: superseded (a later message joined it)';
  if (current.status === 'answered') return 'turn: duplicate';
  if (on.status === 'handedOff') {
    await ai.state.completeTurn(ref, due.wamid, { outcome: 'HANDED_OFF' }, turn.at);
    return 'turn: handed off already';
  }
  const dueAt = Date.parse(current.lastAt) + ai.debounceMs;
  if (current.status === 'open' && dueAt > now.getTime()) {
    // A timer that fired early (or a clock ahead of the queue's): wait for the rest of the window.
    await ai.turns.enqueue(due, dueAt - now.getTime());
    return 'turn: waiting';
  }
  const claim = await ai.state.claimTurn(ref, due.wamid, now, turn.deps.settings.leaseSeconds);
  // Another run answers it under a lease: the record comes back later, and takes over if that run stopped.
  if (claim === 'in-progress') throw new DecisionInProgress(due.wamid);
  if (claim !== 'claimed') return `turn: ${claim}`;

  const agent = await ai.automations.get(ref.accountId, 'ai-agents', on.aiAgentId);
  if (!agent || !agent.body.enabled) {
    await ai.state.end(ref);
    await ai.state.completeTurn(ref, due.wamid, { outcome: 'AGENT_UNAVAILABLE' }, turn.at);
    return 'turn: agent unavailable';
  }
  const question = current.texts.join('\n');
  if (asksForHuman(question)) return handOff(turn, agent, 'asked-for-human');

  const unit = await unitOf(turn, agent);
  const taken = await ai.state.takeUnit(unit);
  if (taken === 'quota-exceeded') return handOff(turn, agent, 'quota-exceeded');

  let answer: KnowledgeAnswer;
  try {
    answer = await ai.answerer.answer({
      agent: { id: agent.id, name: agent.body.name, instructions: agent.body.instructions, knowledge: agent.body.knowledge },
      history: await historyBefore(turn, current),
      question,
    });
  } catch (error) {
    // A busy provider: the record fails and comes back; the unit stays taken under its key (the retry replays it).
    if (error instanceof AppError && error.retryable) throw error;
    await ai.state.releaseUnit(unit);
    return handOff(turn, agent, 'provider-refused');
  }
  if (answer.kind === 'handoff') {
    await ai.state.releaseUnit(unit);
    return handOff(turn, agent, answer.reason);
  }

  const meta: AiAnswerMeta = {
    aiAgentId: agent.id,
    sources: answer.sources.map((index) => ({ index, excerpt: excerpt(agent.body.knowledge[index] ?? '') })),
    answers: current.wamids,
    model: ai.answerer.model,
  };
  const sent = await sendAutomatic(turn, { type: 'text', text: answer.text }, meta);
  if (sent.outcome !== 'sent') await ai.state.releaseUnit(unit);
  await ai.state.completeTurn(ref, due.wamid, { outcome: sent.outcome, ...(sent.wamid ? { answerWamid: sent.wamid } : {}) }, turn.at);
  return `turn: ${sent.outcome === 'sent' ? 'answered' : sent.outcome}`;
}

/** People take over: the handoff team (or a flag), the handoff message, the agent silent until the conversation closes. */
async function handOff(turn: Turn, agent: StoredAutomation<'ai-agents'>, reason: HandoffReason): Promise<TurnOutcome> {
  const { deps, ai, ref, due, at } = turn;
  const { teamId, message } = agent.body.handoff;
  await ai.state.handOff(ref, reason, at);
  if (teamId !== undefined) await deps.inbox.assignTeam(ref, teamId);
  else await deps.state.flagForAgent(ref, `AI_HANDOFF: ${reason}`, at);
  const sent = await sendAutomatic(turn, { type: 'text', text: message ?? DEFAULT_HANDOFF_MESSAGE });
  await ai.state.completeTurn(ref, due.wamid, { outcome: `HANDOFF: ${reason}`, ...(sent.wamid ? { answerWamid: sent.wamid } : {}) }, at);
  return `turn: handed off (${reason})`;
}

/** An automatic reply through the 10-minute safeguard and the shared send path. */
async function sendAutomatic(turn: Turn, message: OutgoingMessage, ai?: AiAnswerMeta): Promise<{ outcome: string; wamid?: string }> {
  const { deps, ref, now, target, current } = turn;
  // The window the turn's messages opened: the stored one once the inbox has it, else from the last message's arrival.
  const stored = await deps.inbox.getConversation(ref);
  const windowOpenUntil = stored?.windowOpenUntil ?? new Date(Date.parse(current.lastAt) + SERVICE_WINDOW_MS).toISOString();
  const sent = await sendAutomaticReply(deps, ref, message, { target, windowOpenUntil, now, ...(ai ? { ai } : {}) });
  if (sent.outcome === 'RATE_LIMITED') await deps.state.flagForAgent(ref, 'RATE_LIMITED: automatic replies', turn.at);
  return sent.outcome === 'sent' ? { outcome: 'sent', wamid: sent.wamid } : { outcome: sent.outcome };
}

async function unitOf(turn: Turn, agent: StoredAutomation<'ai-agents'>): Promise<AiUnit> {
  const account = await turn.deps.accounts.get(turn.ref.accountId);
  if (!account) throw new NotFound('The account');
  return {
    ref: turn.ref,
    aiAgentId: agent.id,
    wamid: turn.due.wamid,
    period: billingPeriod(account.billingAnchor, turn.now).key,
    limit: counterLimit(account, 'aiResponses'),
    at: turn.at,
  };
}

/** The conversation's last messages before the turn, as the model's context. */
async function historyBefore(turn: Turn, current: AiTurn): Promise<{ from: 'contact' | 'business'; text: string }[]> {
  const { items } = await turn.deps.inbox.listMessages(turn.ref, { limit: HISTORY_READ });
  const inTurn = new Set(current.wamids);
  return items
    .filter((m) => !inTurn.has(m.wamid) && m.text.trim() !== '')
    .slice(-turn.ai.historyMessages)
    .map((m) => ({ from: m.direction === 'in' ? 'contact' : 'business', text: m.text }));
}

/** Whether the contact asks for a person (a phrase of `HUMAN_REQUESTS`, as whole words). */
export function asksForHuman(text: string): boolean {
  const said = ` ${normalise(text)} `;
  return HUMAN_REQUESTS.some((phrase) => said.includes(` ${normalise(phrase)} `));
}

function excerpt(passage: string): string {
  const flat = passage.replace(/\s+/gu, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}
