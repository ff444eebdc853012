/**
 * `/webhook` over real HTTP through the local runtime: signatures over raw
 * bytes (unicode escapes, emoji, accents, non-UTF-8 bodies API Gateway would
 * base64-encode), the refusals, Meta-sized batches, the bus's dead letters,
 * and the no-5xx property against the real table.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client.js';
import type { DeadLetter, RecordedEvent } from '../../functions/adapters/local/event-bus.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { FIXTURE_ROUTES, fixtureBytes, fixtureJson, fixtureNames, seedRoute, sign } from '../support/webhook.js';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, bus: { retryDelayMs: 5 }, env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
  const doc = createDocumentClient({ tableName: runtime.tableName, endpoint: runtime.dynamoEndpoint });
  for (const route of Object.values(FIXTURE_ROUTES)) await seedRoute(doc, runtime.tableName, route);
  doc.destroy();
});

afterAll(async () => {
  await runtime?.stop();
});

/** Posts bytes signed as Meta signs them, or with the given signature (`null`: none). */
async function post(body: Buffer | string, signature: string | null = sign(body, runtime.env.WHATSAPP_APP_SECRET)) {
  const res = await fetch(`${runtime.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-hub-signature-256': signature }) },
    body,
  });
  return { status: res.status, body: await res.text() };
}

const busEvents = async () => ((await (await fetch(`${runtime.url}/local/bus/events`)).json()) as { items: RecordedEvent[] }).items;
const eventIds = async () => (await busEvents()).map((r) => (r.event.detail as { eventId: string }).eventId);
const detailOf = async (eventId: string) => (await busEvents()).find((r) => (r.event.detail as { eventId: string }).eventId === eventId)?.event.detail;

/** A text message delivery on the default number, built as bytes (so escapes stay as written). */
const textDelivery = (wamid: string, bodyJson: string) =>
  '{"object":"whatsapp_business_account","entry":[{"id":"210000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",' +
  '"metadata":{"display_phone_number":"15550001001","phone_number_id":"110000000000001"},"contacts":[{"profile":{"name":"Jos\\u00e9"},"wa_id":"5511987650001"}],' +
  `"messages":[{"from":"5511987650001","id":"${wamid}","timestamp":"1764230400","type":"text","text":{"body":${bodyJson}}}]}}]}]}`;

describe('signatures over raw bytes', () => {
  it('verifies escaped unicode, surrogate-pair emoji and raw UTF-8 accents', async () => {
    const body = Buffer.from(textDelivery('wamid.E2E_UNICODE', '"Ol\\u00e1! \\ud83d\\ude00 Prazo de entrega: amanhã, São Paulo ✅"'), 'utf8');
    expect((await post(body)).status).toBe(200);
    expect(await detailOf('wamid.E2E_UNICODE')).toMatchObject({
      message: { text: { body: 'Olá! 😀 Prazo de entrega: amanhã, São Paulo ✅' } },
      contact: { profile: { name: 'José' } },
    });
  });

  it('verifies a body that is not valid UTF-8 (API Gateway hands it over base64-encoded)', async () => {
    // "café" in Latin-1: the é is the single byte 0xE9, invalid as UTF-8.
    const body = Buffer.from(textDelivery('wamid.E2E_LATIN1', '"café"'), 'latin1');
    expect(Buffer.from(body.toString('utf8'), 'utf8').equals(body)).toBe(false);
    expect((await post(body)).status).toBe(200);
    expect(await eventIds()).toContain('wamid.E2E_LATIN1');
  });

  it('refuses the signature of the re-serialised JSON instead of the bytes', async () => {
    const body = fixtureBytes('text-message.json');
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')));
    expect((await post(body, sign(reserialised, runtime.env.WHATSAPP_APP_SECRET))).status).toBe(401);
  });
});

describe('refusals', () => {
  // status-read.json is posted nowhere else in this file: its event must never appear.
  it('answers 401 without a signature and puts nothing on the bus', async () => {
    expect((await post(fixtureBytes('status-read.json'), null)).status).toBe(401);
    expect(await eventIds()).not.toContain('wamid.OUT_BROADCAST_0001:read');
  });

  it('answers 401 to a wrong signature and puts nothing on the bus', async () => {
    expect((await post(fixtureBytes('status-read.json'), sign('other bytes', runtime.env.WHATSAPP_APP_SECRET))).status).toBe(401);
    expect(await eventIds()).not.toContain('wamid.OUT_BROADCAST_0001:read');
  });

  it('answers 400 to malformed JSON', async () => {
    expect((await post('{"object": "whatsapp_business_account", "entry": [')).status).toBe(400);
  });

  it('answers 400 to a payload that is not WhatsApp Business Account', async () => {
    expect((await post('{"object":"instagram","entry":[]}')).status).toBe(400);
  });

  it('answers 413 over 5 MiB', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024 + 1, 0x20);
    expect((await post(body)).status).toBe(413);
  });

  it('answers 405 to another method', async () => {
    expect((await fetch(`${runtime.url}/webhook`, { method: 'PUT' })).status).toBe(405);
  });

  it('still answers the verification handshake', async () => {
    const res = await fetch(`${runtime.url}/webhook?hub.mode=subscribe&hub.verify_token=${runtime.env.WHATSAPP_VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(await res.text()).toBe('1158201444');
  });
});

describe('the local bus', () => {
  it('records dead letters of a failing consumer and serves them on /local/bus/dead-letters', async () => {
    const unregister = runtime.bus.register(
      'automation',
      async () => {
        throw new Error('automation exploded');
      },
      'failing-automation',
    );
    try {
      const body = Buffer.from(textDelivery('wamid.E2E_DLQ', '"hello"'), 'utf8');
      expect((await post(body)).status).toBe(200);
      await runtime.bus.drain();
    } finally {
      unregister();
    }
    const { items } = (await (await fetch(`${runtime.url}/local/bus/dead-letters`)).json()) as { items: DeadLetter[] };
    expect(items.filter((d) => d.consumer === 'failing-automation')).toEqual([
      expect.objectContaining({ rule: 'automation', attempts: 3, error: 'automation exploded', event: expect.objectContaining({ detail: expect.objectContaining({ eventId: 'wamid.E2E_DLQ' }) }) }),
    ]);
  });

  it('lists recent events with the rules they matched on /local/bus/events', async () => {
    await post(fixtureBytes('status-sent.json'));
    const recorded = (await busEvents()).findLast((r) => (r.event.detail as { eventId: string }).eventId === 'wamid.OUT_BROADCAST_0001:sent');
    expect(recorded).toMatchObject({ rules: ['inbox', 'outgoingWebhooks', 'broadcast'], event: { version: '0', source: 'whatsapp.webhook', 'detail-type': 'WhatsApp Message Status Updated' } });
  });
});

describe('no signed body gets a 5xx (against the real table)', () => {
  it('answers 200 or 400 to mutated fixtures and arbitrary bodies', async () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const mutated = fc.tuple(fc.constantFrom(...fixtureNames()), fc.constantFrom('phone_number_id', 'id', 'display_phone_number', 'messages', 'statuses', 'field'), json).map(([name, key, value]) => {
      const replaceKey = (node: unknown): unknown => {
        if (Array.isArray(node)) return node.map(replaceKey);
        if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === key ? value : replaceKey(v)]));
        return node;
      };
      return JSON.stringify(replaceKey(fixtureJson(name)));
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, json.map((v) => JSON.stringify(v) ?? 'null'), fc.string()), async (text) => {
        const { status } = await post(Buffer.from(text, 'utf8'));
        expect([200, 400]).toContain(status);
      }),
      { numRuns: 60 },
    );
  });
});

describe('Meta-sized deliveries', () => {
  it('accepts a ~3 MB batch of thousands of items across several numbers and publishes every one', async () => {
    const template = fixtureJson('two-numbers-one-delivery.json') as { entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[] };
    let count = 0;
    for (const entry of template.entry) {
      for (const change of entry.changes) {
        const [message] = change.value.messages;
        change.value.messages = Array.from({ length: 1500 }, () => ({ ...message, id: `wamid.BULK_${count++}`, text: { body: 'x'.repeat(500) } }));
      }
    }
    const body = Buffer.from(JSON.stringify(template));
    expect(body.length).toBeGreaterThan(2.5 * 1024 * 1024);
    const response = await post(body);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ published: count, unrouted: 0, invalid: 0 });
    expect(await eventIds()).toContain(`wamid.BULK_${count - 1}`);
  });
});
