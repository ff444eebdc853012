/**
 * The two timed messages the automation queue carries besides the bus's
 * `WhatsApp Message Received` events (docs/automations.md): an AI agent's
 * turn falling due after the debounce window (sent by the automation consumer
 * to its own queue with a delay), and a sequence step falling due (an
 * EventBridge Scheduler one-time schedule in AWS, a timer locally). Both use
 * the bus envelope, so the consumer parses every record one way.
 */
import * as z from 'zod';

export const AUTOMATION_TIMER_SOURCE = 'whatsapp.automation';
export const AI_TURN_DUE = 'AI Turn Due';
export const SEQUENCE_STEP_DUE = 'Sequence Step Due';

const conversation = {
  accountId: z.string().min(1),
  whatsapp_phno: z.string().min(1),
  contactKey: z.string().min(1),
};

/** The turn whose last message is `wamid` may be answered now (if no later message joined it). */
export const aiTurnDue = z.object({
  ...conversation,
  /** The Graph id of the number, the address and identity of the contact, as the inbound event named them. */
  phoneNumberId: z.string().min(1),
  to: z.string().min(1),
  waId: z.string().optional(),
  userId: z.string().optional(),
  aiAgentId: z.string().min(1),
  wamid: z.string().min(1),
});
export type AiTurnDue = z.infer<typeof aiTurnDue>;

/** Step `step` (0-based) of an enrolment is due. */
export const sequenceStepDue = z.object({
  ...conversation,
  sequenceId: z.string().min(1),
  enrollmentId: z.string().min(1),
  step: z.int().min(0),
});
export type SequenceStepDue = z.infer<typeof sequenceStepDue>;

/** The envelope a timed message travels in. */
export function timerEnvelope(detailType: typeof AI_TURN_DUE | typeof SEQUENCE_STEP_DUE, detail: AiTurnDue | SequenceStepDue) {
  return { source: AUTOMATION_TIMER_SOURCE, 'detail-type': detailType, detail };
}
