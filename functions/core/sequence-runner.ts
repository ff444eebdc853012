/**
 * The sequence step runner (docs/automations.md, "Sequences"): what the
 * automation consumer does with a `Sequence Step Due` record. A step is sent
 * at most once however often (or however concurrently) its due event is
 * delivered:
 *
 * 1. read the enrolment: not active, or at another step → `stale`, nothing
 *    sent (a redelivery of a step already recorded only makes sure the next
 *    one is scheduled and its credits settled: `duplicate`); a sequence
 *    deleted, disabled or re-scoped to another number cancels it;
 * 2. `sendBetween` (`from` ≤ t < `to`, the account's time zone): outside,
 *    the same step is scheduled again at the next `from` (`waiting`);
 * 3. read what the send needs (the template approved on the number, its
 *    price on the rate card, the number's credit cap) BEFORE claiming, then
 *    claim the step with a conditional write on the enrolment;
 * 4. a template is paid first: a credit reservation keyed by (enrolment,
 *    step) on the shared pool within the number's cap (`QUOTA_EXCEEDED`,
 *    `CREDIT_CAP_REACHED`: recorded, not sent); then sent through the one
 *    send path (`replyTo`, `by: 'automation'`). Free-form text goes only
 *    while the 24-hour window is open (else `WINDOW_CLOSED`, not sent);
 * 5. record the outcome and advance `nextStep` in one conditional write,
 *    then settle the reservation (the price if sent, nothing otherwise) and
 *    schedule the next step under its unique name, or complete.
 *
 * A claim left by a run that crashed mid-send is never sent again: after
 * `staleClaimSeconds` it is recorded `SEND_OUTCOME_UNKNOWN` and the
 * enrolment moves on; before, the record is retried (`StepInFlight`).
 */
import { type SequenceStep, delayMs } from '../../schemas/automations.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import type { RateCard } from '../../schemas/rate-card.js';
import { localClock } from './automation-match.js';
import { BackendFailure } from './backend-failures.js';
import { AppError, NotFound, QuotaExceeded, WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable } from './errors.js';
import type { InboxRepository } from './inbox-ports.js';
import type { MarketingPreferenceDeps } from './marketing-preferences.js';
import type { MessageSender } from './messaging.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository } from './ports.js';
import { replyTo } from './replies.js';
import type { CreditPool } from './sender-ports.js';
import type { StepOutcome } from './sequence-ports.js';
import { type SendAdmission, type SingleSendDeps, admitSend, noteSent } from './single-send.js';
import { planTemplateSend, settleOnce } from './template-sends.js';
import { type SequenceDeps, type StoredEnrollment, dueOf, keyOf, stepScheduleName, unavailableBecause } from './sequences.js';
import type { TemplateRepository } from './template-ports.js';

export interface SequenceRunnerSettings {
  /** A claimed step with no outcome this long after its claim is recorded `SEND_OUTCOME_UNKNOWN` (never re-sent). */
  staleClaimSeconds: number;
}

export const DEFAULT_SEQUENCE_RUNNER_SETTINGS: SequenceRunnerSettings = { staleClaimSeconds: 300 };

export interface SequenceRunnerDeps extends SequenceDeps, MarketingPreferenceDeps {
  inbox: InboxRepository;
  messaging: MessageSender;
  accounts: Pick<AccountRepository, 'get'>;
  numbers: Pick<NumberRepository, 'get'>;
  templates: Pick<TemplateRepository, 'get'>;
  credits: Pick<CreditPool, 'reservation' | 'settleReservation'>;
  messagingLimits: SingleSendDeps['messagingLimits'];
  rateCard: RateCard;
  settings: SequenceRunnerSettings;
}

/** What one due event did: a step ran (`sent`, or `not sent: WHY`), or why nothing ran. */
export type SequenceStepOutcome = 'stale' | 'duplicate' | 'waiting' | 'limited' | 'cancelled' | 'sent' | `not sent: ${string}`;

/** Another run holds the step's claim (it is sending it): the record is delivered again later. */
export class StepInFlight extends BackendFailure {
  readonly code = 'SEQUENCE_STEP_IN_FLIGHT';
  override readonly retryable = true;
  constructor(due: SequenceStepDue) {
    super(`Step ${due.step} of ${due.enrollmentId} is being sent by another run; retry.`);
    this.name = 'StepInFlight';
  }
}

/** A step due within this long before `from` is sent now (a timer may fire a little early). */
const EARLY_TOLERANCE_MS = 60_000;

export async function processSequenceStepDue(deps: SequenceRunnerDeps, due: SequenceStepDue): Promise<SequenceStepOutcome> {
  const key = keyOf(due);
  const enrollment = await deps.sequences.get(key);
  if (!enrollment || enrollment.accountId !== due.accountId) return 'stale';
  if (enrollment.nextStep !== due.step) {
    const recorded = enrollment.steps.find((s) => s.step === due.step);
    if (!recorded || enrollment.nextStep !== due.step + 1) return 'stale';
    // A redelivery after the outcome was recorded: finish what the first run may not have.
    await finishStep(deps, enrollment, recorded);
    return 'duplicate';
  }
  if (enrollment.status !== 'active') return 'stale';

  const sequence = await deps.automations.get(due.accountId, 'sequences', due.sequenceId);
  const why = unavailableBecause(sequence, enrollment.ref);
  const steps = sequence?.body.steps ?? [];
  if (why || due.step >= steps.length) {
    const reason = why ? `sequence ${why}` : 'sequence shortened';
    await deps.sequences.end(key, why ? 'cancelled' : 'completed', reason, deps.clock.now().toISOString());
    return why ? 'cancelled' : 'stale';
  }
  const step = steps[due.step]!;
  const now = deps.clock.now();

  if (enrollment.claimStep === due.step) return takeOverClaim(deps, enrollment, due, steps);

  const account = await deps.accounts.get(due.accountId);
  if (step.sendBetween) {
    const timeZone = account?.timeZone ?? 'UTC';
    const waitUntil = nextOpening(now, timeZone, step.sendBetween);
    if (waitUntil) {
      const stamp = waitUntil.toISOString().slice(0, 16).replace(/\D/g, '');
      if (!(await deps.sequences.postpone(key, due.step, waitUntil.toISOString()))) return 'stale';
      await deps.stepScheduler.schedule({ name: stepScheduleName(due.enrollmentId, due.step, `w${stamp}`), at: waitUntil, due });
      return 'waiting';
    }
  }

  const prepared = 'template' in step.message ? await prepareTemplate(deps, enrollment, step, account?.billingAnchor, now) : { kind: 'text' as const };
  if (!(await deps.sequences.claimStep(key, due.step, now.toISOString()))) {
    const current = await deps.sequences.get(key);
    if (current?.status === 'active' && current.nextStep === due.step && current.claimStep === due.step) throw new StepInFlight(due);
    return current && current.nextStep === due.step + 1 ? 'duplicate' : 'stale';
  }

  const outcome = await sendStep(deps, enrollment, due, step, prepared);
  if ('resumesAt' in outcome) {
    // The portfolio's messaging limit has no room for this user now: the step waits, unclaimed and unpaid, until it has.
    if (!(await deps.sequences.releaseClaim(key, due.step, outcome.resumesAt))) return 'stale';
    const stamp = outcome.resumesAt.slice(0, 16).replace(/\D/g, '');
    await deps.stepScheduler.schedule({ name: stepScheduleName(due.enrollmentId, due.step, `l${stamp}`), at: new Date(outcome.resumesAt), due });
    return 'limited';
  }
  await record(deps, enrollment, outcome, steps);
  return outcome.outcome === 'sent' ? 'sent' : `not sent: ${outcome.outcome}`;
}

// ------------------------------------------------------------------ sending

type Prepared =
  | { kind: 'text' }
  | { kind: 'refused'; outcome: string }
  | {
      kind: 'template';
      priceMicros: number;
      period: string;
      capMicros: number | null;
      portfolioId: string;
      waId: string;
      message: { type: 'template'; name: string; language: string; components?: unknown[] };
    };

/** What a template step needs, read before the claim: its approval on the number, its price, the number's cap. */
async function prepareTemplate(deps: SequenceRunnerDeps, enrollment: StoredEnrollment, step: SequenceStep, billingAnchor: string | undefined, now: Date): Promise<Prepared> {
  const { name, language, components } = (step.message as { template: { name: string; language: string; components?: unknown[] } }).template;
  const { ref } = enrollment;
  const conversation = await deps.inbox.getConversation(ref);
  const waId = conversation?.lastWaId ?? conversation?.waId ?? ref.contactKey;
  const plan = await planTemplateSend(deps, ref, { name, language }, { waId, freeEntryUntil: conversation?.freeEntryUntil }, { anchor: billingAnchor ?? enrollment.enrolledAt, now });
  if (plan.refused) return { kind: 'refused', outcome: plan.refused };
  if (!conversation) return { kind: 'refused', outcome: 'CONVERSATION_NOT_FOUND' };
  return { kind: 'template', ...plan, waId, message: { type: 'template', name, language, ...(components ? { components } : {}) } };
}

/**
 * The claimed step, paid and counted (a template: its credits and its messaging-limit unit in one
 * transaction, `single-send.ts`) and sent through the one send path; the outcome to record, or when the
 * messaging limit has room again.
 */
async function sendStep(
  deps: SequenceRunnerDeps,
  enrollment: StoredEnrollment,
  due: SequenceStepDue,
  step: SequenceStep,
  prepared: Prepared,
): Promise<StepOutcome | { resumesAt: string }> {
  const at = () => deps.clock.now().toISOString();
  const outcome = (o: string, wamid?: string): StepOutcome => ({ step: due.step, outcome: o, ...(wamid ? { wamid } : {}), at: at() });
  if (prepared.kind === 'refused') return outcome(prepared.outcome);
  const { ref } = enrollment;
  let admission: SendAdmission | undefined;
  if (prepared.kind === 'template') {
    try {
      admission = await admitSend(deps, {
        accountId: ref.accountId,
        whatsappPhno: ref.whatsappPhno,
        portfolioId: prepared.portfolioId,
        waId: prepared.waId,
        reservationId: reservationIdOf(due.enrollmentId, due.step),
        reason: 'sequence:reserve',
        refId: due.enrollmentId,
        credits: { amountMicros: prepared.priceMicros, spend: { period: prepared.period, capMicros: prepared.capMicros } },
      });
    } catch (error) {
      if (error instanceof QuotaExceeded) return outcome(error.details && (error.details as { scope?: string }).scope === 'number' ? 'CREDIT_CAP_REACHED' : 'QUOTA_EXCEEDED');
      throw error;
    }
    if (!admission.admitted) return { resumesAt: admission.resumesAt };
  }
  const message = prepared.kind === 'template' ? prepared.message : { type: 'text' as const, text: (step.message as { text: string }).text };
  try {
    const sent = await replyTo(deps, ref, message, { by: 'automation', bizOpaqueCallbackData: `seq:${due.enrollmentId}:${due.step}` });
    if (sent.outcome === 'sent' && admission && prepared.kind === 'template') await noteSent(deps, { accountId: ref.accountId, waId: prepared.waId }, admission, deps.clock.now());
    return sent.outcome === 'sent' ? outcome('sent', sent.wamid) : outcome(sent.outcome);
  } catch (error) {
    const failure = failureOf(error);
    if (!failure) throw error;
    return outcome(failure);
  }
}

/** What a send error means for the step; undefined for errors that are not an answer (the claim then goes stale). */
function failureOf(error: unknown): string | undefined {
  if (error instanceof NotFound) return 'CONVERSATION_NOT_FOUND';
  if (error instanceof WhatsAppThrottled || error instanceof WhatsAppRejected || error instanceof WhatsAppUnavailable) return 'SEND_FAILED';
  if (error instanceof AppError && error.statusCode < 500) return error.code === 'NUMBER_NOT_CONNECTED' ? 'NUMBER_NOT_CONNECTED' : 'SEND_FAILED';
  return undefined;
}

export function reservationIdOf(enrollmentId: string, step: number): string {
  return `seq:${enrollmentId}:${step}`;
}

// ------------------------------------------------------------ moving on

/** Records the outcome and advances (or completes), then settles and schedules the next step. */
async function record(deps: SequenceRunnerDeps, enrollment: StoredEnrollment, outcome: StepOutcome, steps: readonly SequenceStep[]): Promise<void> {
  const next = outcome.step + 1;
  const advance =
    next < steps.length
      ? { nextStep: next, nextDueAt: new Date(Date.parse(outcome.at) + delayMs(steps[next]!.delay)).toISOString() }
      : { completed: true as const, at: outcome.at };
  await deps.sequences.recordStep(keyOf(enrollment), outcome, advance);
  const current = await deps.sequences.get(keyOf(enrollment));
  if (current) await finishStep(deps, current, outcome);
}

/** Idempotent: settles the step's reservation (the price when sent), and schedules the next step of an active enrolment. */
async function finishStep(deps: SequenceRunnerDeps, enrollment: StoredEnrollment, outcome: StepOutcome): Promise<void> {
  // A send whose outcome is unknown may have gone out: its price is kept, as a broadcast's.
  const charged = outcome.outcome === 'sent' || outcome.outcome === 'SEND_OUTCOME_UNKNOWN';
  await settleOnce(deps, {
    accountId: enrollment.accountId,
    whatsappPhno: enrollment.ref.whatsappPhno,
    reservationId: reservationIdOf(enrollment.enrollmentId, outcome.step),
    refId: enrollment.enrollmentId,
    usedMicros: charged ? Number.MAX_SAFE_INTEGER : 0,
    reason: 'sequence:settle',
  });
  if (enrollment.status === 'active' && enrollment.nextStep === outcome.step + 1 && enrollment.nextDueAt) {
    const step = enrollment.nextStep;
    await deps.stepScheduler.schedule({ name: stepScheduleName(enrollment.enrollmentId, step), at: new Date(enrollment.nextDueAt), due: dueOf(enrollment, step) });
  }
}

/** A claim with no outcome: another run is sending (retry later), or it crashed (never re-sent: recorded unknown). */
async function takeOverClaim(deps: SequenceRunnerDeps, enrollment: StoredEnrollment, due: SequenceStepDue, steps: readonly SequenceStep[]): Promise<SequenceStepOutcome> {
  const claimedAt = Date.parse(enrollment.claimedAt ?? '') || 0;
  if (deps.clock.now().getTime() - claimedAt < deps.settings.staleClaimSeconds * 1000) throw new StepInFlight(due);
  await record(deps, enrollment, { step: due.step, outcome: 'SEND_OUTCOME_UNKNOWN', at: deps.clock.now().toISOString() }, steps);
  return 'not sent: SEND_OUTCOME_UNKNOWN';
}

// ------------------------------------------------------------- send hours

/**
 * Undefined when `now` is inside `from` ≤ t < `to` in the time zone (or
 * within a minute before `from`); else the next `from`: today's when it is
 * still ahead, tomorrow's otherwise.
 */
export function nextOpening(now: Date, timeZone: string, hours: { from: string; to: string }): Date | undefined {
  const minutes = localClock(now, timeZone).minutes;
  const from = toMinutes(hours.from);
  const to = toMinutes(hours.to);
  if (from <= minutes && minutes < to) return undefined;
  const local = localDate(now, timeZone);
  const today = zonedTime(local, hours.from, timeZone);
  if (today.getTime() > now.getTime()) return today.getTime() - now.getTime() <= EARLY_TOLERANCE_MS ? undefined : today;
  const tomorrow = new Date(Date.UTC(local.year, local.month - 1, local.day + 1));
  return zonedTime({ year: tomorrow.getUTCFullYear(), month: tomorrow.getUTCMonth() + 1, day: tomorrow.getUTCDate() }, hours.from, timeZone);
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallClock(at: Date, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

function localDate(at: Date, timeZone: string): LocalDate {
  const { year, month, day } = wallClock(at, timeZone);
  return { year, month, day };
}

/** The instant the zone's clocks read `hhmm` on that local date (daylight saving included). */
function zonedTime(date: LocalDate, hhmm: string, timeZone: string): Date {
  const wanted = Date.UTC(date.year, date.month - 1, date.day, Number(hhmm.slice(0, 2)), Number(hhmm.slice(3, 5)));
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const w = wallClock(new Date(guess), timeZone);
    const offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - guess;
    const next = wanted - offset;
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess);
}
