/**
 * Sequence enrolments (docs/automations.md, "Sequences"): the use cases of
 * the API (`POST/GET/DELETE /v1/sequences/{id}/enrollments`) and what the
 * automation consumer asks (`SequenceEnrolments`: a keyword's
 * `subscribeSequence`, a reply or `stop` leaving every sequence).
 *
 * - One active enrolment per (sequence, contact, number): the store's
 *   conditional write decides; enrolling again while one is active changes
 *   nothing and answers the active one.
 * - The first step is scheduled at enrolment, `delayMs(steps[0].delay)`
 *   later, under a name unique per (enrolment, step): a retried enrolment
 *   schedules nothing twice. The runner (`sequence-runner.ts`) takes it from
 *   there.
 * - Leaving (a reply, `stop`, DELETE) ends the enrolment and frees the
 *   (sequence, contact, number) slot; a step due later finds it ended
 *   (stale) and sends nothing.
 */
import { type SequenceBody, delayMs } from '../../schemas/automations.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import type { AutomationRepository, StoredAutomation } from './automation-ports.js';
import { Conflict, NotFound, ValidationFailed } from './errors.js';
import type { ConversationRef, InboxRepository } from './inbox-ports.js';
import type { Clock, IdGenerator, Page, PageRequest } from './ports.js';
import type { Enrollment, EnrollmentStatus, SequenceEnrolments, StepOutcome, StepScheduler } from './sequence-ports.js';

// -------------------------------------------------------------------- store

/** An enrolment as stored, with the claim of the step being sent. */
export interface StoredEnrollment extends Enrollment {
  /** The step a run claimed (before sending it); kept once the outcome is recorded. */
  claimStep?: number;
  claimedAt?: string;
}

/** Where an enrolment lives: its sequence and its id. */
export interface EnrollmentKey {
  accountId: string;
  sequenceId: string;
  enrollmentId: string;
}

/** What follows a step's outcome: the next step due at a time, or the end. */
export type StepAdvance = { nextStep: number; nextDueAt: string } | { completed: true; at: string };

export interface SequenceStore {
  /** Stores a new active enrolment unless the contact has one in the sequence on that number: then answers that one. */
  create(enrollment: StoredEnrollment): Promise<{ created: boolean; enrollment: StoredEnrollment }>;
  get(key: EnrollmentKey): Promise<StoredEnrollment | undefined>;
  /** The active enrolment of the conversation's contact in the sequence. */
  active(ref: ConversationRef, sequenceId: string): Promise<StoredEnrollment | undefined>;
  /** Every active enrolment of the conversation's contact. */
  activeOf(ref: ConversationRef): Promise<StoredEnrollment[]>;
  /** Oldest first. */
  list(accountId: string, sequenceId: string, page: PageRequest): Promise<Page<StoredEnrollment>>;
  /** Ends an active enrolment (and frees its slot); false when it was not active any more. */
  end(key: EnrollmentKey, status: Exclude<EnrollmentStatus, 'active'>, reason: string, at: string): Promise<boolean>;
  /** Claims `step` for sending: only while active at that step and not claimed for it before. */
  claimStep(key: EnrollmentKey, step: number, at: string): Promise<boolean>;
  /** Records the claimed step's outcome and moves on (completed: ends it), conditional on the step. */
  recordStep(key: EnrollmentKey, outcome: StepOutcome, advance: StepAdvance): Promise<boolean>;
  /** The step waits (outside `sendBetween`): moves `nextDueAt`, conditional on the step. */
  postpone(key: EnrollmentKey, step: number, nextDueAt: string): Promise<boolean>;
  /** The claimed step was not sent and waits (the messaging limit): the claim is given up and `nextDueAt` moved, conditional on the claim. */
  releaseClaim(key: EnrollmentKey, step: number, nextDueAt: string): Promise<boolean>;
}

// --------------------------------------------------------------------- deps

export interface SequenceDeps {
  sequences: SequenceStore;
  automations: Pick<AutomationRepository, 'get'>;
  stepScheduler: StepScheduler;
  clock: Clock;
  ids: IdGenerator;
}

export interface SequenceApiDeps extends SequenceDeps {
  inbox: Pick<InboxRepository, 'getConversation'>;
}

/** The name of step `step`'s schedule: unique per (enrolment, step), so scheduling twice schedules once. */
export function stepScheduleName(enrollmentId: string, step: number, suffix?: string): string {
  return `seq-${enrollmentId}-${step}${suffix ? `-${suffix}` : ''}`;
}

export function dueOf(enrollment: Enrollment, step: number): SequenceStepDue {
  return {
    accountId: enrollment.accountId,
    whatsapp_phno: enrollment.ref.whatsappPhno,
    contactKey: enrollment.ref.contactKey,
    sequenceId: enrollment.sequenceId,
    enrollmentId: enrollment.enrollmentId,
    step,
  };
}

/** Why a sequence cannot take an enrolment on the conversation's number, or undefined when it can. */
export function unavailableBecause(sequence: StoredAutomation<'sequences'> | undefined, ref: ConversationRef): 'missing' | 'disabled' | 'other-number' | undefined {
  if (!sequence) return 'missing';
  if (!sequence.body.enabled) return 'disabled';
  const phno = sequence.body.scope.whatsapp_phno;
  return phno !== undefined && phno !== ref.whatsappPhno ? 'other-number' : undefined;
}

// ---------------------------------------------------------------- use cases

/**
 * Enrols the conversation's contact in the sequence and schedules its first
 * step; an active enrolment there already is answered as is (`created: false`),
 * its first step scheduled again under the same name when none ran yet (a
 * retry after a crash between the two writes).
 */
export async function enrollConversation(
  deps: SequenceDeps,
  request: { ref: ConversationRef; sequence: StoredAutomation<'sequences'>; by: 'keyword' | 'api'; at: Date },
): Promise<{ created: boolean; enrollment: StoredEnrollment }> {
  const { ref, sequence, by, at } = request;
  const first = (sequence.body as SequenceBody).steps[0]!;
  const dueAt = new Date(at.getTime() + delayMs(first.delay));
  const candidate: StoredEnrollment = {
    enrollmentId: deps.ids.newId('enr'),
    accountId: ref.accountId,
    sequenceId: sequence.id,
    ref,
    status: 'active',
    nextStep: 0,
    nextDueAt: dueAt.toISOString(),
    enrolledAt: at.toISOString(),
    enrolledBy: by,
    steps: [],
  };
  const result = await deps.sequences.create(candidate);
  const { enrollment } = result;
  if (enrollment.nextStep === 0 && enrollment.claimStep === undefined && enrollment.nextDueAt) {
    await deps.stepScheduler.schedule({ name: stepScheduleName(enrollment.enrollmentId, 0), at: new Date(enrollment.nextDueAt), due: dueOf(enrollment, 0) });
  }
  return result;
}

/** The API's enrolment: 404 for an unknown sequence or conversation, 409 for a disabled sequence, 400 for another number's rule. */
export async function enrollByApi(deps: SequenceApiDeps, ref: ConversationRef, sequenceId: string): Promise<{ created: boolean; enrollment: StoredEnrollment }> {
  const sequence = await deps.automations.get(ref.accountId, 'sequences', sequenceId);
  const why = unavailableBecause(sequence, ref);
  if (why === 'missing') throw new NotFound('The sequence');
  if (why === 'disabled') throw new Conflict('SEQUENCE_DISABLED', `The sequence ${sequenceId} is disabled.`, { sequenceId });
  if (why === 'other-number') {
    throw new ValidationFailed([
      { path: ['body', 'conversationId'], message: `The sequence is a rule for ${sequence!.body.scope.whatsapp_phno}, not this conversation's number.`, code: 'custom' },
    ]);
  }
  if (!(await deps.inbox.getConversation(ref))) throw new NotFound('The conversation');
  return enrollConversation(deps, { ref, sequence: sequence!, by: 'api', at: deps.clock.now() });
}

/** Ends the contact's active enrolment in the sequence (DELETE): 404 when there is none. */
export async function cancelEnrollment(deps: SequenceDeps, ref: ConversationRef, sequenceId: string): Promise<void> {
  const active = await deps.sequences.active(ref, sequenceId);
  const ended = active && (await deps.sequences.end(keyOf(active), 'left', 'deleted', deps.clock.now().toISOString()));
  if (!ended) throw new NotFound('An active enrolment of this conversation in the sequence');
}

/** A sequence's enrolments, oldest first (every status); 404 for a sequence the account does not have, as every route naming one. */
export async function listEnrollments(deps: SequenceDeps, accountId: string, sequenceId: string, page: PageRequest): Promise<Page<StoredEnrollment>> {
  // Together: a cursor the listing did not issue is still refused (400) whether or not the sequence exists.
  const [sequence, enrollments] = await Promise.all([deps.automations.get(accountId, 'sequences', sequenceId), deps.sequences.list(accountId, sequenceId, page)]);
  if (!sequence) throw new NotFound('The sequence');
  return enrollments;
}

/** What the automation consumer asks of sequences. */
export function sequenceEnrolments(deps: SequenceDeps): SequenceEnrolments {
  return {
    async enroll({ ref, sequenceId, by, at }) {
      const sequence = await deps.automations.get(ref.accountId, 'sequences', sequenceId);
      if (unavailableBecause(sequence, ref)) return 'unavailable';
      const { created } = await enrollConversation(deps, { ref, sequence: sequence!, by, at });
      return created ? 'enrolled' : 'already-enrolled';
    },
    async leaveAll(ref, reason, at) {
      const active = await deps.sequences.activeOf(ref);
      const left: string[] = [];
      for (const enrollment of active) {
        if (await deps.sequences.end(keyOf(enrollment), 'left', reason, at.toISOString())) left.push(enrollment.sequenceId);
      }
      return left;
    },
  };
}

export function keyOf(enrollment: Pick<Enrollment, 'accountId' | 'sequenceId' | 'enrollmentId'>): EnrollmentKey {
  return { accountId: enrollment.accountId, sequenceId: enrollment.sequenceId, enrollmentId: enrollment.enrollmentId };
}
