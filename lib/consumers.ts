import { Duration } from 'aws-cdk-lib';
import type { RuleName } from '../schemas/routes.js';

/**
 * The bus consumers and the send queue's consumer: one table that both stacks
 * read, so each queue's visibility timeout is derived from its function's timeout.
 */
export const CONSUMERS = {
  inbox: { handlerDir: 'inbox', rule: 'inbox', timeout: Duration.seconds(30), batchSize: 10, description: 'Team inbox: contacts, conversations, messages, statuses' },
  automation: {
    handlerDir: 'automation',
    rule: 'automation',
    // Leases (AUTOMATION_LEASE_SECONDS, 60 s by default) must outlast a run: keep the timeout under them.
    timeout: Duration.seconds(30),
    batchSize: 10,
    description: 'Automations: keywords, default actions, chatbots, routes, AI agents, sequences',
  },
  broadcast: { handlerDir: 'broadcast', rule: 'broadcast', timeout: Duration.seconds(60), batchSize: 10, description: 'Broadcasts: fan-out to the send queue, metrics, template statuses' },
} as const satisfies Record<string, { handlerDir: string; rule: RuleName; timeout: Duration; batchSize: number; description: string }>;

export type ConsumerName = keyof typeof CONSUMERS;

/** The broadcast sender: one chunk per invocation, paced to the number's throughput. */
export const SENDER = { handlerDir: 'sender', timeout: Duration.minutes(5), batchSize: 1, description: 'Broadcast sender: reserves credits per chunk, sends, settles' } as const;
