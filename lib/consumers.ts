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
  integration: {
    handlerDir: 'integration',
    rule: 'integrations',
    // Two guarded POSTs a record (each with its own deadline), records of a batch in parallel.
    timeout: Duration.seconds(60),
    batchSize: 5,
    description: "Integrations: the default number's contacts and conversations pushed to the account's integration",
  },
  outgoingWebhooks: {
    handlerDir: 'webhook-dispatch',
    rule: 'outgoingWebhooks',
    // Table reads and writes and one SQS send per delivery: no HTTP call happens here (the delivery function makes them).
    timeout: Duration.seconds(30),
    batchSize: 10,
    description: "Outgoing webhooks: the default number's public events become signed deliveries on the delivery queue",
  },
  media: {
    handlerDir: 'media',
    rule: 'media',
    // A Graph API call and a download of up to 100 MB (documents) a record, then one S3 put: a few at a time.
    timeout: Duration.seconds(120),
    batchSize: 2,
    // Up to 100 MB held in memory for the hash and the put.
    memorySize: 1024,
    description: 'Media in: files of inbound media messages fetched from the Graph API, checked (SHA-256) and stored in S3',
  },
  broadcast: { handlerDir: 'broadcast', rule: 'broadcast', timeout: Duration.seconds(60), batchSize: 10, description: 'Broadcasts: fan-out to the send queue, metrics, template statuses' },
} as const satisfies Record<string, { handlerDir: string; rule: RuleName; timeout: Duration; batchSize: number; memorySize?: number; description: string }>;

export type ConsumerName = keyof typeof CONSUMERS;

/**
 * The outgoing-webhook delivery function: one attempt per message, each POST with a 10 s deadline, records of a
 * batch in parallel. The claim lease (`WEBHOOK_CLAIM_LEASE_MS`, 60 s) must outlast a run: keep the timeout under it.
 */
export const WEBHOOK_DELIVERY = { handlerDir: 'webhook-delivery', timeout: Duration.seconds(30), batchSize: 10, description: 'Outgoing webhooks: signed POSTs to subscribers through the SSRF guard, retried with backoff' } as const;

/** The broadcast sender: one chunk per invocation, paced to the number's throughput. */
export const SENDER = { handlerDir: 'sender', timeout: Duration.minutes(5), batchSize: 1, description: 'Broadcast sender: reserves credits per chunk, sends, settles' } as const;
