/**
 * Contract test of the bus events (docs/events.md): every contract of
 * `schemas/events/` has a versioned example in `test/fixtures/events/`, the
 * example is an event of its contract, the rules of `schemas/routes.ts` send
 * it where the table below says, and each consumer its rule feeds accepts it
 * with its own parser, as the record body SQS hands it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBroadcastRecord } from '../../functions/broadcast/events.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { parseWebhookDispatchRecord } from '../../functions/webhook-dispatch/events.js';
import { parseIntegrationRecord } from '../../functions/integration/events.js';
import { parseMediaRecord } from '../../functions/media/events.js';
import { type Contract, EVENT_CONTRACTS } from '../../schemas/events.js';
import { RULES, RULE_NAMES, type RuleName, matches } from '../../schemas/routes.js';

const FIXTURES = new URL('../fixtures/events/', import.meta.url);

/** Each rule's consumer parser; `automation` has no consumer yet. */
const CONSUMERS: Record<RuleName, ((body: string) => { kind: string }) | undefined> = {
  inbox: parseInboxRecord,
  automation: undefined,
  integrations: parseIntegrationRecord,
  outgoingWebhooks: parseWebhookDispatchRecord,
  broadcast: parseBroadcastRecord,
  media: parseMediaRecord,
};

/** Where each example goes and what its consumers make of it (`null`: routed, no consumer yet). */
const ROUTED: Record<keyof typeof EVENT_CONTRACTS, Partial<Record<RuleName, string | null>>> = {
  messageReceived: { inbox: 'received', automation: null, integrations: 'received', outgoingWebhooks: 'WhatsApp Message Received', broadcast: 'reply' },
  messageRecorded: { inbox: null },
  messageStatusUpdated: { inbox: 'status', outgoingWebhooks: 'WhatsApp Message Status Updated', broadcast: 'status' },
  templateStatusUpdated: { outgoingWebhooks: 'WhatsApp Template Status Updated', broadcast: 'template' },
  numberUpdated: { outgoingWebhooks: 'WhatsApp Number Updated' },
  userPreferencesUpdated: { broadcast: 'preference' },
  broadcastRequested: { broadcast: 'requested' },
  creditsLow: {},
};

const exampleFile = (contract: Contract) => `${contract.name}.v${contract.version}.json`;

function exampleOf(contract: Contract): { source: string; 'detail-type': string; detail: unknown } {
  return JSON.parse(readFileSync(new URL(exampleFile(contract), FIXTURES), 'utf8'));
}

/** The example as a consumer receives it: the whole EventBridge event (with the fields EventBridge adds) as an SQS record's body. */
function recordBody(example: ReturnType<typeof exampleOf>): string {
  return JSON.stringify({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    time: '2025-11-27T08:00:02Z',
    account: '111122223333',
    region: 'us-east-1',
    resources: [],
    ...example,
  });
}

describe('event examples', () => {
  it('has exactly one example per contract version', () => {
    const expected = Object.values(EVENT_CONTRACTS).map(exampleFile).sort();
    expect(readdirSync(FIXTURES).sort()).toEqual(expected);
  });
});

describe.each(Object.entries(EVENT_CONTRACTS) as [keyof typeof EVENT_CONTRACTS, Contract][])('%s', (key, contract) => {
  const example = exampleOf(contract);
  const routed = ROUTED[key];

  it('has an example with its source and detail type', () => {
    expect({ source: example.source, detailType: example['detail-type'] }).toEqual({ source: contract.source, detailType: contract.detailType });
  });

  it('has an example its schema accepts', () => {
    const parsed = contract.schema.safeParse(example.detail);
    expect(parsed.error?.issues).toBeUndefined();
  });

  it('is routed by the rules the table names', () => {
    expect(RULE_NAMES.filter((rule) => matches(RULES[rule], example))).toEqual(Object.keys(routed));
  });

  const consumed = (Object.entries(routed) as [RuleName, string | null][]).filter((entry): entry is [RuleName, string] => entry[1] !== null);
  it.each(consumed)('is accepted by the %s consumer as %s', (rule, kind) => {
    const parse = CONSUMERS[rule];
    expect(parse).toBeDefined();
    expect(parse!(recordBody(example))).toMatchObject({ kind, detail: contract.schema.parse(example.detail) });
  });
});
