/**
 * Media out and templates from the inbox through the local runtime over
 * HTTP (`npm start`'s wiring): `POST /v1/uploads`, the PUT to the runtime's
 * signed `/local/media/…` URL, a document reply the Graph API simulator
 * records with a link that serves the very bytes uploaded; then a
 * conversation whose window has closed refuses text and takes a template
 * (approved by the simulator), sent and charged once also when retried with
 * the same `Idempotency-Key`, and delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { eventually, localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let owner: string;

const NUMBER = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const MARIA = '5511987650001';
const JOAO = '5511987650009';

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const client = localClient(runtime);
  const support = await client.token({ role: 'support' });
  const created = await client.api('POST', '/v1/admin/accounts', support, {
    name: 'Acme',
    plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 },
    creditsMicros: 50_000_000,
  });
  expect(created.status).toBe(201);
  owner = await client.token({ role: 'owner', accountId: created.body.accountId });
  expect((await client.api('POST', '/v1/numbers', owner, { name: 'Main', ...NUMBER })).status).toBe(201);
});

afterAll(async () => {
  await runtime?.stop();
});

/** The dashboard API as the owner, with extra headers (`Idempotency-Key`). */
async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${owner}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Maria's text fixture, from `waId`, stamped `agoSeconds` before now, signed and delivered; the bus drained. */
async function writes(waId: string, agoSeconds: number, wamid: string) {
  const raw = fixtureText('text-message.json')
    .replace(/"timestamp": "\d+"/g, `"timestamp": "${Math.floor(Date.now() / 1000) - agoSeconds}"`)
    .split(MARIA)
    .join(waId)
    .split('wamid.IN_TEXT_0001')
    .join(wamid);
  expect(await localClient(runtime).deliver(raw)).toBe(200);
  await runtime.bus.drain();
}

const simulated = async () => ((await (await fetch(`${runtime.url}/local/graph/messages`)).json()) as { items: Record<string, any>[] }).items;

describe('media out and templates from the inbox, locally', () => {
  it('uploads a PDF, PUTs it to the runtime, and sends it as a document whose link serves the same bytes', async () => {
    await writes(MARIA, 60, 'wamid.IN_MEDIA_OUT_1');
    const bytes = Buffer.from('%PDF-1.4\n% invoice 1042\n');
    const refused = await api('POST', '/v1/uploads', { fileName: 'big.pdf', mimeType: 'application/pdf', sizeBytes: 200 * 1024 * 1024 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues[0].path).toEqual(['body', 'sizeBytes']);

    const created = await api('POST', '/v1/uploads', { fileName: 'invoice-1042.pdf', mimeType: 'application/pdf', sizeBytes: bytes.byteLength });
    expect(created.status).toBe(201);
    const { uploadId, upload } = created.body;
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
    expect(put.status).toBe(200);

    const sent = await api('POST', `/v1/conversations/15550001001_${MARIA}/messages`, { document: { uploadId, caption: 'Your invoice' } });
    expect(sent.status).toBe(202);
    const out = (await simulated()).find((m) => m.wamid === sent.body.wamid)!;
    expect(out).toMatchObject({ to: MARIA, type: 'document', document: { filename: 'invoice-1042.pdf', caption: 'Your invoice' } });
    // What Meta would fetch is exactly what was uploaded.
    const fetched = await fetch(out.document.link);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true);

    const listed = await api('GET', `/v1/conversations/15550001001_${MARIA}/messages`);
    const view = listed.body.items.find((m: { wamid: string }) => m.wamid === sent.body.wamid);
    expect(view.media).toMatchObject({ mimeType: 'application/pdf', fileName: 'invoice-1042.pdf', sizeBytes: bytes.byteLength });
    expect(Buffer.from(await (await fetch(view.media.url)).arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses text once the window closed, and sends an approved template once, charged once, delivered', async () => {
    await writes(JOAO, 2 * 24 * 3600, 'wamid.IN_MEDIA_OUT_OLD');
    const conversation = `/v1/conversations/15550001001_${JOAO}/messages`;
    const text = await api('POST', conversation, { text: 'Still there?' });
    expect(text.status).toBe(409);
    expect(text.body.error.code).toBe('WINDOW_CLOSED');

    expect(
      (
        await api('POST', '/v1/templates', {
          name: 'invoice_ready',
          language: 'en_US',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Hi {{1}}, your invoice {{2}} is ready.', example: { body_text: [['Maria', '#1042']] } }],
        })
      ).status,
    ).toBe(202);
    const approved = await eventually(
      () => api('GET', '/v1/templates'),
      (res) => res.body.items.some((t: { name: string; numbers: { status: string }[] }) => t.name === 'invoice_ready' && t.numbers[0]?.status === 'APPROVED'),
    );
    expect(approved.body.items.find((t: { name: string }) => t.name === 'invoice_ready').numbers[0].status).toBe('APPROVED');

    const wrongCount = await api('POST', conversation, { template: { name: 'invoice_ready', language: 'en_US', parameters: ['João'] } });
    expect(wrongCount.status).toBe(400);
    expect(wrongCount.body.error.issues[0].path).toEqual(['body', 'template', 'parameters']);

    const balance = async () => (await api('GET', '/v1/account')).body.credits.balanceMicros as number;
    const before = await balance();
    const body = { template: { name: 'invoice_ready', language: 'en_US', parameters: ['João', '#1042'] } };
    const first = await api('POST', conversation, body, { 'Idempotency-Key': 'invoice-1042-joao' });
    expect(first.status).toBe(202);
    const charged = await balance();
    expect(charged).toBeLessThan(before);
    const again = await api('POST', conversation, body, { 'Idempotency-Key': 'invoice-1042-joao' });
    expect(again.status).toBe(202);
    expect(again.body.wamid).toBe(first.body.wamid);
    expect(await balance()).toBe(charged);
    expect((await simulated()).filter((m) => m.type === 'template' && m.to === JOAO)).toHaveLength(1);

    const delivered = await eventually(
      () => api('GET', conversation),
      (res) => ['delivered', 'read'].includes(res.body.items.find((m: { wamid: string }) => m.wamid === first.body.wamid)?.status),
    );
    expect(['delivered', 'read']).toContain(delivered.body.items.find((m: { wamid: string }) => m.wamid === first.body.wamid).status);
  });
});
