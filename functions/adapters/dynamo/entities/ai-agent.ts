/**
 * The AI agent on one conversation (docs/automations.md, "AI agents";
 * docs/data-model.md): which agent answers, whether people took over, and
 * its one debounced turn (the contact's messages waiting for one answer).
 *
 * One item per conversation, in the conversation's automation-state
 * partition (beside the chatbot session, the lock and the markers: the
 * partition template is the chatbot session's own). `version` moves with
 * every write, for the optimistic writes that replace the whole item;
 * `expiresAt` is the table's TTL (epoch seconds), 24 h after the contact's
 * last message; `turn.leaseUntilMs` is epoch milliseconds.
 */
import * as z from 'zod';
import { chatbotSession } from './automation-state.js';
import { defineEntity } from './entity.js';

export const aiAgentTurn = z.object({
  id: z.string(),
  wamids: z.array(z.string()),
  texts: z.array(z.string()),
  lastWamid: z.string(),
  lastAt: z.string(),
  status: z.enum(['open', 'answering', 'answered']),
  leaseUntilMs: z.number().optional(),
  outcome: z.string().optional(),
  answerWamid: z.string().optional(),
  /** When `completeTurn` marked it answered. */
  answeredAt: z.string().optional(),
});

export const aiAgentConversation = defineEntity({
  type: 'aiAgentConversation',
  key: { pk: chatbotSession.pk.template, sk: 'AIAGENT' },
  schema: z.object({
    aiAgentId: z.string(),
    status: z.enum(['active', 'handedOff']),
    startedAt: z.string(),
    startedBy: z.string(),
    lastMessageAt: z.string(),
    handedOffAt: z.string().optional(),
    handoffReason: z.string().optional(),
    turn: aiAgentTurn.optional(),
    version: z.number(),
    expiresAt: z.number(),
  }),
});
