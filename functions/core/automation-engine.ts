/**
 * The decision of the automation engine (docs/automations.md, "The decision
 * order"): `decide` turns one admitted inbound message and what is known
 * around it into a `Plan`, what won, why, and the actions the consumer takes
 * in order. Pure: no I/O, no clock but `input.now`.
 *
 * Steps (step 0, admission and the claim, is the consumer's):
 * 1. interrupt: with an open session, `stop` or an exit word of its chatbot
 *    (normalised, whole message) ends it; nothing is sent.
 * 2. human: an assigned team or an agent's reply, while the window is open:
 *    nothing automatic (an open session ends, no routes).
 * 3. session: an open session takes the message (never the keywords): the
 *    chosen option moves it on, an invalid answer is retried, then the
 *    session ends and the conversation is left for an agent.
 * 4. agent: an AI agent active on the conversation takes the message into
 *    its turn (answered once after the debounce window); one that handed
 *    off answers nothing until the conversation closes.
 * 5. keywords: rules for this number beat account-wide keywords; then exact,
 *    contains, fuzzy; then priority; then the oldest. The first match only.
 * 6. the default answerer (an AI agent marked `defaultAnswerer`, a rule for
 *    the number before an account-wide one), else one default action: out of
 *    office, else welcome, else fallback.
 * 7. routes: an assignment beside the winner of 5 or 6 (or of a session that
 *    ended on this message), when the conversation has no team yet.
 *
 * A session or AI agent that is no longer open (24 h without an answer,
 * started before an agent's reply, its automation deleted or disabled) is
 * ended first, and the message is judged as if there were none. With
 * sequences on the account, every plan starts by leaving the contact's
 * active enrolments (the contact replied), but the one the message enrols in.
 */
import type { AutomationKind } from '../../schemas/automations.js';
import type { AiConversation } from './ai-ports.js';
import type { ChatbotSession, DecisionInput, OutgoingReply, Plan, PlanAction, StoredAutomation } from './automation-ports.js';
import { localClock, matchOption, pickDefaults, pickKeyword, pickRoute, withinHours, type KeywordHit } from './automation-match.js';
import { normalise } from './text-normalise.js';

export { optionReplyId, parseOptionReplyId } from './automation-match.js';

/** The interrupt word every session listens to, besides its chatbot's exit words. */
export const STOP_WORD = 'stop';
/** A session without an answer for longer than this is over. */
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
/** Said before a step is sent again when the answer was not one of its options (a step's `retryText` replaces it). */
export const DEFAULT_RETRY_TEXT = 'Please choose one of the options below.';

type EndReason = Extract<PlanAction, { type: 'endSession' }>['reason'];
type Chatbot = StoredAutomation<'chatbots'>;

type AiAgent = StoredAutomation<'ai-agents'>;

type Closed = { state: 'closed'; end: PlanAction; why: string };

type SessionState = { state: 'none' } | Closed | { state: 'open'; session: ChatbotSession; bot: Chatbot; step: Chatbot['body']['steps'][number] };

type AgentState = { state: 'none' } | Closed | { state: 'active' | 'handedOff'; agent: AiAgent; on: AiConversation };

/** The plan for one admitted inbound message. */
export function decide(input: DecisionInput): Plan {
  const text = normalise(input.message.text ?? '');
  const session = judgeSession(input);
  const agent = judgeAgent(input);
  const plan =
    interrupt(session, agent, text) ??
    human(input, session, agent) ??
    (session.state === 'open' ? sessionAnswer(session, input) : undefined) ??
    agentAnswer(agent) ??
    keyword(input, text) ??
    defaultAnswerer(input) ??
    defaultAction(input) ?? { decidedBy: 'none', reason: 'nothing matched: no fallback', actions: [] };
  let routed = route(plan, input, text);
  for (const closed of [agent, session]) {
    if (closed.state === 'closed') routed = { ...routed, reason: `${closed.why}; ${routed.reason}`, actions: [closed.end, ...routed.actions] };
  }
  return leaveSequences(routed, input, text);
}

/** The contact wrote: with sequences on the account, their active enrolments end first (but the one this message enrols in). */
function leaveSequences(plan: Plan, input: DecisionInput, text: string): Plan {
  if (input.automations.sequences.size === 0) return plan;
  const enrols = plan.actions.find((a): a is Extract<PlanAction, { type: 'enrollSequence' }> => a.type === 'enrollSequence');
  const leave: PlanAction = { type: 'leaveSequences', reason: text === STOP_WORD ? 'stop' : 'replied', ...(enrols ? { except: enrols.sequenceId } : {}) };
  return { ...plan, actions: [leave, ...plan.actions] };
}

// ---------------------------------------------------------------- session

function judgeSession({ session, automations, conversation, now }: DecisionInput): SessionState {
  if (!session) return { state: 'none' };
  const closed = (reason: EndReason, why: string): SessionState => ({ state: 'closed', end: endSession(reason), why: `session of ${session.chatbotId} ended: ${why}` });
  const bot = automations.chatbots.get(session.chatbotId);
  if (!bot) return closed('expired', 'its chatbot was deleted');
  if (now.getTime() - Date.parse(session.lastActivityAt) > SESSION_IDLE_MS) return closed('expired', `no answer for 24 h (last activity ${session.lastActivityAt})`);
  const agentAt = conversation.lastAgentReplyAt;
  if (agentAt !== undefined && Date.parse(session.startedAt) < Date.parse(agentAt)) return closed('agent', `an agent replied at ${agentAt}`);
  const step = bot.body.steps.find((s) => s.id === session.stepId);
  if (!step?.options?.length) return closed('expired', `step ${session.stepId} is no longer a question of the chatbot`);
  return { state: 'open', session, bot, step };
}

// ---------------------------------------------------------------- AI agent

function judgeAgent({ aiAgent, automations, conversation, now }: DecisionInput): AgentState {
  if (!aiAgent) return { state: 'none' };
  const closed = (reason: Extract<PlanAction, { type: 'endAgent' }>['reason'], why: string): AgentState => ({
    state: 'closed',
    end: { type: 'endAgent', reason },
    why: `AI agent ${aiAgent.aiAgentId} left the conversation: ${why}`,
  });
  const agent = automations.aiAgents.get(aiAgent.aiAgentId);
  if (!agent) return closed('expired', 'it was deleted');
  if (!agent.body.enabled) return closed('expired', 'it is disabled');
  if (now.getTime() - Date.parse(aiAgent.lastMessageAt) > SESSION_IDLE_MS) return closed('expired', `the conversation closed (no message since ${aiAgent.lastMessageAt})`);
  const agentAt = conversation.lastAgentReplyAt;
  if (aiAgent.status === 'active' && agentAt !== undefined && Date.parse(aiAgent.startedAt) < Date.parse(agentAt)) return closed('agent', `an agent replied at ${agentAt}`);
  return { state: aiAgent.status, agent, on: aiAgent };
}

function agentAnswer(agent: AgentState): Plan | undefined {
  if (agent.state === 'active') {
    return { decidedBy: 'agent', reason: `AI agent ${agent.agent.id} answers this conversation`, automation: ref('ai-agents', agent.agent.id), actions: [aiTurn(agent.agent.id)] };
  }
  if (agent.state === 'handedOff') {
    const why = agent.on.handoffReason ? ` (${agent.on.handoffReason})` : '';
    return {
      decidedBy: 'agent',
      reason: `AI agent ${agent.agent.id} handed off at ${agent.on.handedOffAt ?? agent.on.startedAt}${why}: no automatic answer until the conversation closes`,
      automation: ref('ai-agents', agent.agent.id),
      actions: [],
    };
  }
  return undefined;
}

/** The default answerer for the number: a rule for it before an account-wide one, the oldest of each. */
function defaultAnswerer({ automations, conversation }: DecisionInput): Plan | undefined {
  const phno = conversation.ref.whatsappPhno;
  const candidates = [...automations.aiAgents.values()].filter((a) => a.body.enabled && a.body.defaultAnswerer);
  const found = candidates.find((a) => a.body.scope.whatsapp_phno === phno) ?? candidates.find((a) => a.body.scope.whatsapp_phno === undefined);
  if (!found) return undefined;
  const scope = found.body.scope.whatsapp_phno === undefined ? 'account-wide' : `rule for ${phno}`;
  return { decidedBy: 'default', reason: `default answerer: AI agent ${found.id} (${scope})`, automation: ref('ai-agents', found.id), actions: [aiTurn(found.id)] };
}

function aiTurn(aiAgentId: string): PlanAction {
  return { type: 'aiTurn', aiAgentId };
}

// --------------------------------------------------------------- interrupt

function interrupt(session: SessionState, agent: AgentState, text: string): Plan | undefined {
  if (agent.state === 'active' && text === STOP_WORD) {
    return { decidedBy: 'interrupt', reason: `'${STOP_WORD}' ended AI agent ${agent.agent.id} on the conversation`, automation: ref('ai-agents', agent.agent.id), actions: [{ type: 'endAgent', reason: 'stop' }] };
  }
  if (session.state !== 'open' || text === '') return undefined;
  const exitWords = session.bot.body.exitWords.map(normalise);
  if (text !== STOP_WORD && !exitWords.includes(text)) return undefined;
  const said = text === STOP_WORD ? `'${STOP_WORD}'` : `exit word '${text}'`;
  return { decidedBy: 'interrupt', reason: `${said} ended the session of chatbot ${session.bot.id}`, automation: ref('chatbots', session.bot.id), actions: [endSession('exitWord')] };
}

function human({ conversation, now }: DecisionInput, session: SessionState, agent: AgentState): Plan | undefined {
  const { assignedTeamId, lastAgentReplyAt, windowOpenUntil } = conversation;
  if (assignedTeamId === undefined && lastAgentReplyAt === undefined) return undefined;
  if (windowOpenUntil === undefined || Date.parse(windowOpenUntil) <= now.getTime()) return undefined;
  // An AI agent that handed off is the one that assigned the team: its step says so.
  if (agent.state === 'handedOff') return undefined;
  const owner = assignedTeamId !== undefined ? `team ${assignedTeamId} is assigned` : `an agent replied at ${lastAgentReplyAt}`;
  const actions: PlanAction[] = [];
  let ended = '';
  if (session.state === 'open') {
    actions.push(endSession('agent'));
    ended += '; the open session ended';
  }
  if (agent.state === 'active') {
    actions.push({ type: 'endAgent', reason: 'agent' });
    ended += `; AI agent ${agent.agent.id} left the conversation`;
  }
  return { decidedBy: 'human', reason: `${owner} and the window is open until ${windowOpenUntil}: no automatic reply${ended}`, actions };
}

function sessionAnswer(open: Extract<SessionState, { state: 'open' }>, { message }: DecisionInput): Plan {
  const { session, bot, step } = open;
  const options = step.options ?? [];
  const at = `chatbot ${bot.id} step ${step.id}`;
  const plan = (reason: string, actions: PlanAction[]): Plan => ({ decidedBy: 'session', reason, automation: ref('chatbots', bot.id), actions });
  const match = matchOption(bot.id, step, message);
  if (match?.index !== undefined) {
    const option = options[match.index]!;
    const chose = `${at}: option ${match.index + 1} '${option.title}' (by ${match.by})`;
    const next = bot.body.steps.find((s) => s.id === option.next);
    if (!next) return plan(`${chose} leads to a missing step ${option.next}: session completed`, [endSession('completed')]);
    const send = sendStep(bot.id, next.id);
    if (!next.options?.length) return plan(`${chose} → step ${next.id}, the last: session completed`, [send, endSession('completed')]);
    return plan(`${chose} → step ${next.id}`, [{ type: 'advanceSession', chatbotId: bot.id, stepId: next.id }, send]);
  }
  const answer = match ? 'a button of an earlier message' : message.text ? `'${preview(message.text)}'` : `a message of type ${message.type}`;
  const { maxRetries } = bot.body;
  if (session.retries < maxRetries) {
    const retries = session.retries + 1;
    const retry: OutgoingReply = { type: 'retry', chatbotId: bot.id, stepId: step.id, text: step.retryText ?? DEFAULT_RETRY_TEXT };
    return plan(`${at}: ${answer} is not an option: retry ${retries} of ${maxRetries}`, [
      { type: 'retrySession', chatbotId: bot.id, stepId: step.id, retries },
      { type: 'send', reply: retry },
      sendStep(bot.id, step.id),
    ]);
  }
  return plan(`${at}: ${answer} is not an option and the ${maxRetries} retries are spent: session ended, left for an agent`, [
    endSession('retriesExhausted'),
    { type: 'flagForAgent', reason: 'retriesExhausted' },
  ]);
}

// --------------------------------------------------------------- keywords

function keyword(input: DecisionInput, text: string): Plan | undefined {
  const phno = input.conversation.ref.whatsappPhno;
  const pick = pickKeyword(input.automations.keywords, phno, text);
  if (!pick) return undefined;
  const { winner, beaten, outranked } = pick;
  let reason = describeHit(winner, phno);
  if (beaten) reason += ` beat account-wide ${beaten.item.id}`;
  if (outranked > 0) reason += ` (over ${outranked} lower-ranked match${outranked > 1 ? 'es' : ''})`;
  const { actions, note } = keywordActions(winner.item, input);
  return { decidedBy: 'keyword', reason: note ? `${reason}; ${note}` : reason, automation: ref('keywords', winner.item.id), actions };
}

function describeHit({ item, scope, word }: KeywordHit, phno: string): string {
  const how = `(${item.body.match} '${word}')`;
  return scope === 'rule' ? `rule keyword ${item.id} ${how} for ${phno}` : `account-wide keyword ${item.id} ${how}`;
}

interface Outcome {
  actions: PlanAction[];
  note?: string;
}

function keywordActions(item: StoredAutomation<'keywords'>, { automations, conversation }: DecisionInput): Outcome {
  const action = item.body.action;
  const phno = conversation.ref.whatsappPhno;
  switch (action.type) {
    case 'reply':
      return { actions: [{ type: 'send', reply: { type: 'text', text: action.text } }] };
    case 'replyMaterial':
      return materialReply(action.replyMaterialId, automations.replyMaterial, phno);
    case 'startChatbot': {
      const bot = automations.chatbots.get(action.chatbotId);
      const missing = unusable('chatbot', action.chatbotId, bot, phno);
      return missing ? { actions: [], note: missing } : { actions: [{ type: 'startSession', chatbotId: action.chatbotId }], note: `starts chatbot ${action.chatbotId}` };
    }
    case 'assignTeam':
      return { actions: [{ type: 'assign', teamId: action.teamId, members: [] }], note: `assigns team ${action.teamId}` };
    case 'aiAgent': {
      const agent = automations.aiAgents.get(action.aiAgentId);
      const missing = unusable('AI agent', action.aiAgentId, agent, phno) ?? (agent?.body.enabled === false ? `AI agent ${action.aiAgentId} is disabled: skipped` : undefined);
      return missing ? { actions: [], note: missing } : { actions: [aiTurn(action.aiAgentId)], note: `hands the conversation to AI agent ${action.aiAgentId}` };
    }
    case 'subscribeSequence': {
      const sequence = automations.sequences.get(action.sequenceId);
      const missing = unusable('sequence', action.sequenceId, sequence, phno) ?? (sequence?.body.enabled === false ? `sequence ${action.sequenceId} is disabled: skipped` : undefined);
      return missing ? { actions: [], note: missing } : { actions: [{ type: 'enrollSequence', sequenceId: action.sequenceId }], note: `enrols the contact in sequence ${action.sequenceId}` };
    }
  }
}

function materialReply(id: string, material: DecisionInput['automations']['replyMaterial'], phno: string): Outcome {
  const item = material.get(id);
  const missing = unusable('reply material', id, item, phno);
  if (missing || !item) return { actions: [], note: missing };
  return { actions: [{ type: 'send', reply: { type: 'material', replyMaterialId: id, content: item.body.content } }] };
}

/** Why a referenced chatbot or reply material cannot be used on this number, or undefined. */
function unusable(what: string, id: string, item: { body: { scope: { whatsapp_phno?: string } } } | undefined, phno: string): string | undefined {
  if (!item) return `${what} ${id} is missing: skipped`;
  const only = item.body.scope.whatsapp_phno;
  return only !== undefined && only !== phno ? `${what} ${id} is a rule for ${only}: skipped` : undefined;
}

// --------------------------------------------------------- default actions

function defaultAction(input: DecisionInput): Plan | undefined {
  const { conversation, message, automations } = input;
  const phno = conversation.ref.whatsappPhno;
  const picked = pickDefaults(automations.defaultActions, phno);
  const outOfOffice = picked.outOfOffice;
  const hours = outOfOffice?.body.workingHours;
  if (outOfOffice && hours && !withinHours(hours, message.sentAt)) {
    const clock = localClock(message.sentAt, hours.timeZone);
    return defaultPlan(outOfOffice, input, `out of office: ${clock.label} ${hours.timeZone}`);
  }
  if (conversation.firstMessage && picked.welcome) return defaultPlan(picked.welcome, input, `first message on ${phno}: welcome`);
  if (picked.fallback) return defaultPlan(picked.fallback, input, 'nothing matched: fallback');
  return undefined;
}

function defaultPlan(item: StoredAutomation<'default-actions'>, { automations, conversation }: DecisionInput, why: string): Plan {
  const { text, replyMaterialId } = item.body;
  const scope = item.body.scope.whatsapp_phno === undefined ? 'account-wide' : `rule for ${item.body.scope.whatsapp_phno}`;
  const outcome: Outcome =
    text !== undefined
      ? { actions: [{ type: 'send', reply: { type: 'text', text } }] }
      : materialReply(replyMaterialId!, automations.replyMaterial, conversation.ref.whatsappPhno);
  const gated = item.body.event === 'fallback' && outcome.actions.length > 0;
  const reason = `${why} (${item.id}, ${scope})${outcome.note ? `; ${outcome.note}` : ''}`;
  return { decidedBy: 'default', reason, automation: ref('default-actions', item.id), actions: gated ? [{ type: 'fallbackGate' }, ...outcome.actions] : outcome.actions };
}

// ------------------------------------------------------------------ routes

/** Session actions that leave a chatbot in charge: no route hands the conversation to a team meanwhile. */
const KEEPS_SESSION = new Set<PlanAction['type']>(['startSession', 'advanceSession', 'retrySession', 'aiTurn']);

function route(plan: Plan, input: DecisionInput, text: string): Plan {
  if (plan.decidedBy === 'interrupt' || plan.decidedBy === 'human') return plan;
  if (input.conversation.assignedTeamId !== undefined) return plan;
  if (plan.actions.some((a) => a.type === 'assign' || KEEPS_SESSION.has(a.type))) return plan;
  const phno = input.conversation.ref.whatsappPhno;
  const found = pickRoute(input.automations.routes, phno, text);
  if (!found) return plan;
  const { teamId, members } = found.body;
  const assign: PlanAction = { type: 'assign', teamId, routeId: found.id, members };
  const scope = found.body.scope.whatsapp_phno === undefined ? 'account-wide' : `rule for ${phno}`;
  const said = `route ${found.id} (${scope}) assigns team ${teamId}`;
  if (plan.decidedBy === 'none') return { decidedBy: 'route', reason: said, automation: ref('routes', found.id), actions: [assign] };
  return { ...plan, reason: `${plan.reason}; ${said}`, actions: [...plan.actions, assign] };
}

// ----------------------------------------------------------------- helpers

function endSession(reason: EndReason): PlanAction {
  return { type: 'endSession', reason };
}

function sendStep(chatbotId: string, stepId: string): PlanAction {
  return { type: 'send', reply: { type: 'step', chatbotId, stepId } };
}

function ref(kind: AutomationKind, id: string): { kind: AutomationKind; id: string } {
  return { kind, id };
}

function preview(text: string): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}
