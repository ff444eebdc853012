/**
 * Sequence enrolments as the API takes and answers them
 * (`/v1/sequences/{id}/enrollments`, docs/automations.md "Sequences"). The
 * sequences themselves are an automation kind (`schemas/automations.ts`).
 */
import * as z from 'zod';
import { automationIdParams } from './automations.js';
import { conversationParams } from './inbox.js';

export const enrollBody = z.strictObject({ conversationId: conversationParams.shape.conversationId });
export const enrollmentParams = automationIdParams.extend(conversationParams.shape);

export const enrollmentView = z.object({
  enrollmentId: z.string(),
  sequenceId: z.string(),
  conversationId: z.string(),
  whatsapp_phno: z.string(),
  status: z.enum(['active', 'completed', 'left', 'cancelled']),
  /** The next step to send (0-based); the step count once every step ran. */
  nextStep: z.int(),
  nextDueAt: z.string().nullable(),
  enrolledAt: z.string(),
  enrolledBy: z.enum(['keyword', 'api']),
  /** Each step that ran: `sent` (with its wamid), or why not (`WINDOW_CLOSED`, `QUOTA_EXCEEDED`, `CREDIT_CAP_REACHED`, `TEMPLATE_NOT_APPROVED`, …). */
  steps: z.array(z.object({ step: z.int(), outcome: z.string(), wamid: z.string().optional(), at: z.string() })),
  endedAt: z.string().nullable(),
  /** `replied`, `stop`, `deleted`, `completed`, `sequence missing`, `sequence disabled`, … */
  endReason: z.string().nullable(),
});
export type EnrollmentView = z.infer<typeof enrollmentView>;

/** A page of a sequence's enrolments, oldest first. */
export const enrollmentPage = z.object({ items: z.array(enrollmentView), nextCursor: z.string().nullable() });
