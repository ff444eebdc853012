/**
 * Sequences (docs/automations.md, "Sequences"): what the automation consumer
 * and the API need of enrolments, and the scheduler that makes a step due
 * (an EventBridge Scheduler one-time schedule in AWS, a timer locally). The
 * use cases are `sequences.ts`; the step runner is `sequence-runner.ts`.
 */
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import type { ConversationRef } from './inbox-ports.js';

export type EnrollmentStatus = 'active' | 'completed' | 'left' | 'cancelled';

/** What happened to one step: sent, or why not. */
export interface StepOutcome {
  step: number;
  /** `sent`, `WINDOW_CLOSED`, `QUOTA_EXCEEDED` (credits), `CREDIT_CAP_REACHED`, `SEND_FAILED`, … */
  outcome: string;
  wamid?: string;
  at: string;
}

export interface Enrollment {
  enrollmentId: string;
  accountId: string;
  sequenceId: string;
  ref: ConversationRef;
  status: EnrollmentStatus;
  /** The next step to send (0-based); equals the step count once every step ran. */
  nextStep: number;
  /** When the next step is due (after any `sendBetween` wait). */
  nextDueAt?: string;
  enrolledAt: string;
  enrolledBy: 'keyword' | 'api';
  steps: StepOutcome[];
  endedAt?: string;
  /** `replied`, `stop`, `deleted` (DELETE), `completed`. */
  endReason?: string;
}

/** What the automation consumer asks of sequences for one inbound message. */
export interface SequenceEnrolments {
  /**
   * Enrols the conversation's contact: one active enrolment per (sequence,
   * contact, number); enrolling again while one is active changes nothing.
   * `unavailable` when the sequence is missing, disabled or a rule for another number.
   */
  enroll(request: { ref: ConversationRef; sequenceId: string; by: 'keyword' | 'api'; at: Date }): Promise<'enrolled' | 'already-enrolled' | 'unavailable'>;
  /**
   * Ends every active enrolment of the conversation (the contact replied, or
   * said `stop`) but the one of `except` (the sequence this very message
   * enrols in); answers the sequences left.
   */
  leaveAll(ref: ConversationRef, reason: 'replied' | 'stop', at: Date, except?: string): Promise<string[]>;
}

/** Makes a sequence step due at a time. Idempotent by `name`. */
export interface StepScheduler {
  schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void>;
}
