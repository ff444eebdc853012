/**
 * Sequence enrolments (docs/automations.md, "Sequences"; docs/data-model.md):
 *
 * - `sequenceEnrollment`: one item per enrolment, in its sequence's
 *   partition, sorted by id (time ordered: a listing reads oldest first).
 *   It carries the status, the next step and when it is due, the outcome of
 *   every step that ran, and the claim of the step being sent (`claimStep`,
 *   `claimedAt`): the conditional write that makes a step go out once.
 * - `activeEnrollment`: the marker of the one active enrolment per
 *   (sequence, contact, number), in the conversation's own partition. Put
 *   with `attribute_not_exists` in the same transaction as the enrolment,
 *   so a second enrolment while one is active is refused; deleted when it
 *   ends. One Query on the partition finds every active enrolment of a
 *   conversation (a reply or `stop` leaves them all).
 *
 * Neither lives under `A#{accountId}`: merges copy that partition's
 * automations, not the enrolments of their contacts.
 */
import * as z from 'zod';
import { defineEntity } from './entity.js';

const stepOutcome = z.object({ step: z.number(), outcome: z.string(), wamid: z.string().optional(), at: z.string() });

export const sequenceEnrollment = defineEntity({
  type: 'sequenceEnrollment',
  key: { pk: 'SEQENR#{accountId}#{sequenceId}', sk: 'ENR#{enrollmentId}' },
  schema: z.object({
    enrollmentId: z.string(),
    accountId: z.string(),
    sequenceId: z.string(),
    whatsappPhno: z.string(),
    contactKey: z.string(),
    status: z.enum(['active', 'completed', 'left', 'cancelled']),
    nextStep: z.number(),
    nextDueAt: z.string().optional(),
    enrolledAt: z.string(),
    enrolledBy: z.enum(['keyword', 'api']),
    steps: z.array(stepOutcome),
    /** The step a run claimed for sending (set before the send, kept after). */
    claimStep: z.number().optional(),
    claimedAt: z.string().optional(),
    endedAt: z.string().optional(),
    endReason: z.string().optional(),
  }),
});

/** The active enrolment of a conversation's contact in one sequence. */
export const activeEnrollment = defineEntity({
  key: { pk: 'SEQCONV#{accountId}#{whatsappPhno}#{contactKey}', sk: 'ACTIVE#{sequenceId}' },
  schema: z.object({ sequenceId: z.string(), enrollmentId: z.string(), at: z.string() }),
});
