/**
 * Sequence enrolments (docs/automations.md, "Sequences"): who is enrolled in
 * a sequence (`/v1/automations/sequences` holds the sequences themselves).
 * Admins and up enrol and cancel, agents read. A conversation is named as
 * the inbox names it (`{whatsapp_phno}_{waId}`), always inside the caller's
 * account.
 *
 * - `POST /v1/sequences/{id}/enrollments {conversationId}`: 201 with the new
 *   enrolment, 200 with the active one when the contact is enrolled already
 *   (nothing changes); 404 for an unknown sequence or conversation, 409
 *   `SEQUENCE_DISABLED`, 400 on `body.conversationId` for a conversation of
 *   another number than the sequence's rule.
 * - `GET /v1/sequences/{id}/enrollments?limit=&cursor=`: oldest first, every status.
 * - `DELETE /v1/sequences/{id}/enrollments/{conversationId}`: 204; 404 when
 *   the contact has no active enrolment in it.
 */
import { pageQuery } from '../../../schemas/common.js';
import { automationIdParams } from '../../../schemas/automations.js';
import { type EnrollmentView, enrollBody, enrollmentPage, enrollmentParams, enrollmentView } from '../../../schemas/sequences.js';
import { conversationIdOf } from '../../../schemas/whatsapp-ids.js';
import type { ConversationRef } from '../../core/inbox-ports.js';
import { type SequenceApiDeps, type StoredEnrollment, cancelEnrollment, enrollByApi, listEnrollments } from '../../core/sequences.js';
import { defineRoute } from '../router.js';

export type { SequenceApiDeps } from '../../core/sequences.js';

export { enrollBody, enrollmentParams, enrollmentView } from '../../../schemas/sequences.js';

export function enrollmentViewOf(e: StoredEnrollment): EnrollmentView {
  return {
    enrollmentId: e.enrollmentId,
    sequenceId: e.sequenceId,
    conversationId: conversationIdOf(e.ref.whatsappPhno, e.ref.contactKey),
    whatsapp_phno: e.ref.whatsappPhno,
    status: e.status,
    nextStep: e.nextStep,
    nextDueAt: e.nextDueAt ?? null,
    enrolledAt: e.enrolledAt,
    enrolledBy: e.enrolledBy,
    steps: e.steps,
    endedAt: e.endedAt ?? null,
    endReason: e.endReason ?? null,
  };
}

const refOf = (accountId: string, conversation: { whatsappPhno: string; contactKey: string }): ConversationRef => ({
  accountId,
  whatsappPhno: conversation.whatsappPhno,
  contactKey: conversation.contactKey,
});

export const sequenceRoutes = [
  defineRoute<SequenceApiDeps, typeof enrollBody, never, typeof automationIdParams>({
    method: 'POST',
    path: '/v1/sequences/{id}/enrollments',
    summary: "Enrol a conversation's contact in the sequence: 201 with the enrolment, 200 with the active one when already enrolled.",
    role: 'admin',
    scope: 'account',
    params: automationIdParams,
    body: enrollBody,
    response: { status: 201, schema: enrollmentView },
    handle: async ({ accountId, params, body, deps }) => {
      const { created, enrollment } = await enrollByApi(deps, refOf(accountId, body.conversationId), params.id);
      return { statusCode: created ? 201 : 200, body: enrollmentViewOf(enrollment) };
    },
  }),
  defineRoute<SequenceApiDeps, never, typeof pageQuery, typeof automationIdParams>({
    method: 'GET',
    path: '/v1/sequences/{id}/enrollments',
    summary: "The sequence's enrolments, oldest first (active and ended).",
    role: 'agent',
    scope: 'account',
    params: automationIdParams,
    query: pageQuery,
    response: { status: 200, schema: enrollmentPage },
    handle: async ({ accountId, params, query, deps }) => {
      const page = await listEnrollments(deps, accountId, params.id, { limit: query.limit, cursor: query.cursor });
      return { statusCode: 200, body: { items: page.items.map(enrollmentViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<SequenceApiDeps, never, never, typeof enrollmentParams>({
    method: 'DELETE',
    path: '/v1/sequences/{id}/enrollments/{conversationId}',
    summary: "End the contact's active enrolment in the sequence: no further step is sent.",
    role: 'admin',
    scope: 'account',
    params: enrollmentParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps }) => {
      await cancelEnrollment(deps, refOf(accountId, params.conversationId), params.id);
      return { statusCode: 204 };
    },
  }),
];
