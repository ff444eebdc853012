/**
 * A template sent to one user outside a broadcast: a sequence's template
 * step (`sequence-runner.ts`) or an agent's template from the inbox. Before
 * it goes out it must be approved on the sending number, it is priced by the
 * rate card like a broadcast message, paid from the shared credit pool within
 * the number's cap, and counted against the portfolio's messaging limit, the
 * last two in one transaction (`single-send.ts`).
 */
import type { RateCard } from '../../schemas/rate-card.js';
import { AppError, Conflict, MessagingLimitReached, ReservationSettled, WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from './errors.js';
import type { ConversationRef } from './inbox-ports.js';
import { type MarketingPreferenceDeps, optedOutOf } from './marketing-preferences.js';
import { portfolioOf } from './messaging-limit.js';
import type { NumberRepository } from './numbers.js';
import { billingPeriod } from './plan.js';
import type { AccountRepository, IdGenerator } from './ports.js';
import { type RecipientWindows, priceFor, pricedCategory } from './pricing.js';
import { type OutgoingMessage, type ReplyDeps, replyTo } from './replies.js';
import type { CreditPool } from './sender-ports.js';
import { type SingleSendDeps, admitSend, noteSent } from './single-send.js';
import type { TemplateRepository } from './template-ports.js';

export interface TemplatePricingDeps extends MarketingPreferenceDeps {
  templates: Pick<TemplateRepository, 'get'>;
  numbers: Pick<NumberRepository, 'get'>;
  rateCard: RateCard;
}

/** What a template send to one user will take, or why it may not go out. */
export type TemplateSendPlan =
  | { refused: 'TEMPLATE_NOT_APPROVED' | 'NUMBER_NOT_CONNECTED' | 'OPTED_OUT' }
  | { refused?: undefined; priceMicros: number; period: string; capMicros: number | null; portfolioId: string };

/**
 * Checks the template is approved on the number and the user did not opt out
 * of its category from that number (a MARKETING template after a `stop`,
 * `marketing-preferences.ts`), and prices it for the user (0 inside their
 * free entry window with the number, `pricing.ts`); the billing anchor fixes
 * the period the number's spend is counted in.
 */
export async function planTemplateSend(
  deps: TemplatePricingDeps,
  ref: Pick<ConversationRef, 'accountId' | 'whatsappPhno'>,
  template: { name: string; language: string },
  to: { waId: string } & RecipientWindows,
  billing: { anchor: string; now: Date },
): Promise<TemplateSendPlan> {
  const [stored, number] = await Promise.all([
    deps.templates.get({ accountId: ref.accountId, name: template.name, language: template.language }),
    deps.numbers.get(ref.accountId, ref.whatsappPhno),
  ]);
  if (!stored || stored.numbers[ref.whatsappPhno]?.status !== 'APPROVED') return { refused: 'TEMPLATE_NOT_APPROVED' };
  if (!number) return { refused: 'NUMBER_NOT_CONNECTED' };
  if ((await optedOutOf(deps.marketingPreferences, ref.accountId, ref.whatsappPhno, stored.category, [to.waId])).size > 0) return { refused: 'OPTED_OUT' };
  return {
    priceMicros: priceFor(deps.rateCard, pricedCategory(stored.category), to.waId, to, billing.now),
    period: billingPeriod(billing.anchor, billing.now).key,
    capMicros: number.creditCapMicros,
    portfolioId: portfolioOf(number),
  };
}

export interface AgentTemplateDeps extends TemplatePricingDeps, SingleSendDeps, ReplyDeps {
  accounts: Pick<AccountRepository, 'get'>;
  credits: Pick<CreditPool, 'reservation' | 'settleReservation'>;
  ids: IdGenerator;
}

/**
 * An agent's template from the inbox, at any time: approved on the
 * conversation's number (409 `TEMPLATE_NOT_APPROVED`), not a marketing
 * template to a user who stopped those (409 `RECIPIENT_OPTED_OUT`), paid at the rate
 * card's price within the number's cap (409 `QUOTA_EXCEEDED`), counted
 * against the messaging limit (429 `MESSAGING_LIMIT_REACHED` when it has no
 * room), sent, then settled: the price when WhatsApp took it, nothing when
 * it refused. A failure whose outcome is unknown keeps the price, as a
 * broadcast's does.
 */
export async function sendTemplateAsAgent(
  deps: AgentTemplateDeps,
  ref: ConversationRef,
  message: Extract<OutgoingMessage, { type: 'template' }>,
  to: { waId: string } & RecipientWindows,
): Promise<{ wamid: string }> {
  const now = deps.clock.now();
  const account = await deps.accounts.get(ref.accountId);
  const plan = await planTemplateSend(deps, ref, message, to, { anchor: account?.billingAnchor ?? now.toISOString(), now });
  if (plan.refused === 'TEMPLATE_NOT_APPROVED') {
    throw new Conflict('TEMPLATE_NOT_APPROVED', `The template ${message.name} (${message.language}) is not approved on ${ref.whatsappPhno}.`, {
      whatsapp_phno: ref.whatsappPhno,
      template: message.name,
    });
  }
  if (plan.refused === 'OPTED_OUT') {
    throw new Conflict('RECIPIENT_OPTED_OUT', `The contact stopped marketing messages from ${ref.whatsappPhno}; send a utility template, or wait for them to write.`, {
      whatsapp_phno: ref.whatsappPhno,
      template: message.name,
    });
  }
  if (plan.refused) throw new Conflict('NUMBER_NOT_CONNECTED', `The number ${ref.whatsappPhno} is no longer connected; its conversations are read-only.`, { whatsapp_phno: ref.whatsappPhno });

  const reservationId = deps.ids.newId('agt');
  const change = { accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, reservationId, refId: `${ref.whatsappPhno}:${ref.contactKey}` };
  const admission = await admitSend(deps, {
    ...change,
    portfolioId: plan.portfolioId,
    waId: to.waId,
    reason: 'inbox:reserve',
    credits: { amountMicros: plan.priceMicros, spend: { period: plan.period, capMicros: plan.capMicros } },
  });
  if (!admission.admitted) throw new MessagingLimitReached(ref.whatsappPhno, admission.resumesAt);

  const settle = (usedMicros: number) => settleOnce(deps, { ...change, usedMicros });
  let outcome: Awaited<ReturnType<typeof replyTo>>;
  try {
    outcome = await replyTo(deps, ref, message, { by: 'agent' });
  } catch (error) {
    // WhatsApp's answer, or a refusal of ours before the send: nothing went out. Anything else (a failure
    // recording what was sent, say) may have gone out: its price is kept, as a broadcast's.
    const refused = error instanceof WhatsAppRejected || error instanceof WhatsAppThrottled || error instanceof WhatsAppUnavailable || (error instanceof AppError && error.statusCode < 500);
    await settle(refused ? 0 : plan.priceMicros);
    throw error;
  }
  if (outcome.outcome !== 'sent') {
    await settle(0);
    throw new WindowClosed();
  }
  await noteSent(deps, { accountId: ref.accountId, waId: to.waId }, admission, deps.clock.now());
  await settle(plan.priceMicros);
  return { wamid: outcome.wamid };
}

/** Settles a single send's reservation, at most what it holds (idempotent: a settled one is left as it is). */
export async function settleOnce(
  deps: { credits: Pick<CreditPool, 'reservation' | 'settleReservation'> },
  change: { accountId: string; whatsappPhno: string; reservationId: string; refId: string; usedMicros: number; reason?: string },
): Promise<void> {
  const held = await deps.credits.reservation(change.accountId, change.reservationId);
  if (!held || held.status !== 'open') return;
  try {
    await deps.credits.settleReservation({
      accountId: change.accountId,
      reservationId: change.reservationId,
      usedMicros: Math.min(change.usedMicros, held.amountMicros),
      idempotencyKey: `settle:${change.reservationId}`,
      reason: change.reason ?? 'inbox:settle',
      whatsappPhno: change.whatsappPhno,
      refId: change.refId,
    });
  } catch (error) {
    if (!(error instanceof ReservationSettled)) throw error;
  }
}

