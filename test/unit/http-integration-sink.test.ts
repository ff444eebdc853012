/**
 * The `http` integration sink over the guarded transport, against a receiver
 * on 127.0.0.1: a record arrives as JSON, signed as outgoing webhooks are
 * (a receiver recomputes `X-Signature-256` from `X-Webhook-Timestamp` and the
 * body with the secret shown at creation), with `X-Webhook-Id` = recordId on
 * every attempt; a non-2xx answer and a URL the guard refuses throw, so the
 * consumer's record is retried.
 */
import { createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpIntegrationSink } from '../../functions/adapters/http/http-integration-sink.js';
import { SafeHttpTransport } from '../../functions/adapters/http/safe-http.js';
import { OutboundRequestFailed, UnsafeUrl } from '../../functions/core/errors.js';
import type { StoredIntegration } from '../../functions/core/integration-ports.js';
import { subscriptionSecret } from '../../functions/core/outgoing-webhooks.js';
import type { IntegrationRecord } from '../../schemas/integrations.js';

const MASTER_KEY = 'unit-master-key';
const NOW = new Date('2026-12-02T10:00:00Z');

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server;
let url = '';
const received: Received[] = [];
/** The status the receiver answers next. */
let answer = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/crm`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const integration = (): StoredIntegration => ({ integrationId: 'int_unit000001', accountId: 'acc_unit000001', type: 'http', config: { url }, createdAt: NOW.toISOString() });

const record: IntegrationRecord = {
  recordId: 'contact.upserted:110000000000001:wamid.UNIT1',
  kind: 'contact.upserted',
  eventId: 'wamid.UNIT1',
  occurredAt: '2026-12-02T09:59:00.000Z',
  contact: { waId: '5511987650001', name: 'Maria Souza', whatsapp_phno: '15550001001', attributes: { whatsapp_phno: '15550001001' } },
};

const sinkWith = (policy: { allowLoopback: boolean; allowHttp: boolean }) =>
  new HttpIntegrationSink({ transport: new SafeHttpTransport({ ...policy, timeoutMs: 2_000 }), signingKey: async () => MASTER_KEY, clock: { now: () => NOW } });

describe('HttpIntegrationSink', () => {
  it('POSTs the record as JSON, signed with the secret derived for the integration', async () => {
    received.length = 0;
    answer = 202;
    await sinkWith({ allowLoopback: true, allowHttp: true }).push(integration(), record);
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    expect(JSON.parse(body)).toEqual(record);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-webhook-id']).toBe(record.recordId);
    const timestamp = headers['x-webhook-timestamp'] as string;
    expect(timestamp).toBe(String(NOW.getTime() / 1000));
    // What a receiver does with the secret it was shown at creation.
    const secret = subscriptionSecret(MASTER_KEY, 'int_unit000001');
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    expect(headers['x-signature-256']).toBe(expected);
  });

  it('throws on an answer that is not 2xx, and the retry carries the same X-Webhook-Id and body', async () => {
    received.length = 0;
    answer = 500;
    const sink = sinkWith({ allowLoopback: true, allowHttp: true });
    const failure = await sink.push(integration(), record).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OutboundRequestFailed);
    expect((failure as OutboundRequestFailed).status).toBe(500);
    answer = 200;
    await sink.push(integration(), record);
    expect(received.map((r) => r.headers['x-webhook-id'])).toEqual([record.recordId, record.recordId]);
    expect(received[1]!.body).toBe(received[0]!.body);
  });

  it('refuses the push when the guard refuses the URL (loopback and http outside the local runtime): nothing is sent', async () => {
    received.length = 0;
    const failure = await sinkWith({ allowLoopback: false, allowHttp: true })
      .push(integration(), record)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnsafeUrl);
    expect((failure as UnsafeUrl).reason).toBe('loopback');
    const scheme = await sinkWith({ allowLoopback: true, allowHttp: false })
      .push(integration(), record)
      .catch((error: unknown) => error);
    expect((scheme as UnsafeUrl).reason).toBe('scheme');
    expect(received).toEqual([]);
  });
});
