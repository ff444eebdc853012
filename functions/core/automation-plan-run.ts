/**
 * Carries out one plan of the automation engine (docs/automations.md, "The
 * consumer"): its actions in order, each outcome kept in the run's progress
 * so a run taking over after a crash never does one twice; every send goes
 * through the reply safeguard and the one send path of agent replies.
 */
import type { AutomationSet, ChatbotSession, OutgoingReply, PlanAction, StoredAutomation } from './automation-ports.js';
import { optionReplyId } from './automation-engine.js';
import { type Admitted, type AutomationConsumerDeps, FALLBACK_INTERVAL_MS, LIST_BUTTON_TEXT, type RunProgress, SESSION_TTL_MS, sendAutomaticReply } from './automation-run.js';
import { NotFound } from './errors.js';
import { nonEmpty } from './message-content.js';
import { billingPeriod, counterLimit } from './plan.js';
import type { OutgoingMessage } from './replies.js';
import { type RenderContext, renderReply, renderText } from './reply-render.js';

/** Carries out one plan's actions in order, recording each outcome in `progress`. */
export class PlanRun {
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
      case 'aiTurn':
        return this.joinAiTurn(action.aiAgentId);
      case 'endAgent':
        await this.deps.ai?.state.end(ref);
        return false;
      case 'leaveSequences': {
        const left = this.deps.sequences ? await this.deps.sequences.leaveAll(ref, action.reason, this.now, action.except) : [];
        for (const sequenceId of left) (this.progress.sequences ??= []).push({ sequenceId, outcome: 'left' });
        return left.length > 0;
      }
      case 'enrollSequence': {
        if (!this.deps.sequences) {
          this.progress.notes.push(`sequences are not configured here: sequence ${action.sequenceId} skipped`);
          return false;
        }
        const outcome = await this.deps.sequences.enroll({ ref, sequenceId: action.sequenceId, by: 'keyword', at: this.now });
        if (outcome === 'unavailable') this.progress.notes.push(`sequence ${action.sequenceId} is not available: not enrolled`);
        else (this.progress.sequences ??= []).push({ sequenceId: action.sequenceId, outcome });
        return true;
      }
    }
  }

  /**
   * The message joins the AI agent's turn on the conversation (starting the
   * agent there when it is not yet), and the turn's due message is queued
   * for when the debounce window has passed: the last message of the turn
   * answers for all of it (`ai-turns.ts`).
   */
  private async joinAiTurn(aiAgentId: string): Promise<boolean> {
    const ai = this.deps.ai;
    if (!ai) {
      this.progress.notes.push(`AI agents are not configured here: AI agent ${aiAgentId} skipped`);
      return false;
    }
    const { ref, message, target } = this.admitted;
    await ai.state.addToTurn({
      ref,
      aiAgentId,
      wamid: message.wamid,
      text: message.text ?? `[${message.type}]`,
      at: this.at,
      expiresAt: new Date(this.now.getTime() + SESSION_TTL_MS).toISOString(),
    });
    await ai.turns.enqueue(
      {
        accountId: ref.accountId,
        whatsapp_phno: ref.whatsappPhno,
        contactKey: ref.contactKey,
        phoneNumberId: target.phoneNumberId,
        to: target.to,
        ...(target.identity.waId ? { waId: target.identity.waId } : {}),
        ...(target.identity.userId ? { userId: target.identity.userId } : {}),
        aiAgentId,
        wamid: message.wamid,
      },
      ai.debounceMs,
    );
    this.progress.notes.push(`AI agent ${aiAgentId} answers after ${Math.round(ai.debounceMs / 1000)} s without another message from the contact`);
    return true;
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
    const { ref, target } = this.admitted;
    const sent = await sendAutomaticReply(this.deps, ref, message, { target, windowOpenUntil: this.windowOpenUntil, now: this.now });
    this.progress.replies.push(sent.outcome === 'sent' ? { wamid: sent.wamid, outcome: 'sent', preview: shown } : { outcome: sent.outcome, preview: shown });
    if (sent.outcome === 'RATE_LIMITED') {
      this.progress.notes.push(`more than ${this.deps.settings.maxRepliesPer10Min} automatic replies in 10 minutes: left for an agent`);
      this.progress.halted = true;
      await this.flag('RATE_LIMITED: automatic replies');
    }
    if (sent.outcome === 'SEND_FAILED') this.progress.notes.push(`a reply was refused: ${sent.code}`);
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
    case 'video':
      return preview(message.caption ?? `[${message.type}] ${message.url}`);
    case 'audio':
    case 'sticker':
      return preview(`[${message.type}] ${message.url}`);
    case 'template':
      return `[template] ${message.name}`;
  }
}

function preview(text: string): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}
