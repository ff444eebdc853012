import { createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-simulator.js';

const SECRET = 'sim-secret';
const TOKEN = 'sim-token';

interface Callback {
  signature: string | undefined;
  raw: string;
  body: any;
}

let webhook: Server;
let webhookUrl: string;
let callbacks: Callback[] = [];
let webhookStatus = 200;
let sim: GraphSimulator;
const logs: string[] = [];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      callbacks.push({ signature: req.headers['x-hub-signature-256'] as string | undefined, raw, body: JSON.parse(raw) });
      res.writeHead(webhookStatus).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}`;
  sim = await startGraphSimulator({
    appSecret: SECRET,
    accessToken: TOKEN,
    webhookBaseUrl: webhookUrl,
    callbackDelayMs: 1,
    lookupNumber: async (pnid) => (pnid === '110000000000002' ? { displayPhoneNumber: '15550001002', wabaId: '210000000000001' } : undefined),
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await sim.stop();
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
});

afterEach(() => {
  callbacks = [];
  webhookStatus = 200;
});

async function post(path: string, body: unknown, token = TOKEN) {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const textTo = (to: string, extra: Record<string, unknown> = {}) => ({ messaging_product: 'whatsapp', to, type: 'text', text: { body: 'Olá' }, ...extra });

const statusesOf = (list: Callback[]) => list.map((c) => c.body.entry[0].changes[0].value.statuses[0]);

describe('Graph API simulator: sends', () => {
  it('answers like Meta with a new wamid and records the send', async () => {
    const answer = await post('/v23.0/110000000000002/messages', textTo('5511987650001', { biz_opaque_callback_data: 'bc:brd_1' }));
    expect(answer.status).toBe(200);
    expect(answer.body.messaging_product).toBe('whatsapp');
    expect(answer.body.contacts).toEqual([{ input: '5511987650001', wa_id: '5511987650001' }]);
    expect(answer.body.messages[0].id).toMatch(/^wamid\./);
    expect(sim.sentMessages().at(-1)).toEqual({
      phoneNumberId: '110000000000002',
      to: '5511987650001',
      type: 'text',
      text: 'Olá',
      wamid: answer.body.messages[0].id,
      bizOpaqueCallbackData: 'bc:brd_1',
    });
    await sim.idle();
  });

  it('calls the webhook back with sent, delivered and read, in order, signed over the exact bytes', async () => {
    const answer = await post('/v23.0/110000000000002/messages', textTo('5511987650001', { biz_opaque_callback_data: 'bc:brd_2' }));
    await sim.idle();
    expect(statusesOf(callbacks).map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    for (const callback of callbacks) {
      expect(callback.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(callback.raw).digest('hex')}`);
      expect(callback.body.object).toBe('whatsapp_business_account');
      expect(callback.body.entry[0].id).toBe('210000000000001');
      expect(callback.body.entry[0].changes[0].field).toBe('messages');
      expect(callback.body.entry[0].changes[0].value.metadata).toEqual({ display_phone_number: '15550001002', phone_number_id: '110000000000002' });
    }
    for (const status of statusesOf(callbacks)) {
      expect(status.id).toBe(answer.body.messages[0].id);
      expect(status.recipient_id).toBe('5511987650001');
      expect(status.biz_opaque_callback_data).toBe('bc:brd_2');
    }
  });

  it('reports failed (131026) instead for a recipient starting 999', async () => {
    await post('/v23.0/110000000000002/messages', textTo('9995550001'));
    await sim.idle();
    const statuses = statusesOf(callbacks);
    expect(statuses.map((s) => s.status)).toEqual(['failed']);
    expect(statuses[0].errors[0].code).toBe(131026);
  });

  it('makes no callbacks for a recipient starting 998', async () => {
    const answer = await post('/v23.0/110000000000002/messages', textTo('9985550001'));
    await sim.idle();
    expect(answer.status).toBe(200);
    expect(callbacks).toHaveLength(0);
  });

  it('records template sends with their template', async () => {
    const template = { name: 'promo', language: { code: 'pt_BR' } };
    const answer = await post('/v23.0/110000000000002/messages', { messaging_product: 'whatsapp', to: '9985550002', type: 'template', template });
    expect(sim.sentMessages().at(-1)).toMatchObject({ type: 'template', template, wamid: answer.body.messages[0].id });
  });

  it('refuses a wrong token like Meta (401, code 190)', async () => {
    const answer = await post('/v23.0/110000000000002/messages', textTo('5511987650001'), 'nope');
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe(190);
  });

  it('refuses an unknown phone number id (400, code 100)', async () => {
    const answer = await post('/v23.0/119999999999999/messages', textTo('5511987650001'));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(100);
  });

  it('keeps working when the webhook refuses a callback, and logs it', async () => {
    webhookStatus = 500;
    await post('/v23.0/110000000000002/messages', textTo('5511987650001'));
    await sim.idle();
    expect(logs.some((line) => line.includes('webhook answered 500'))).toBe(true);
    webhookStatus = 200;
    callbacks = [];
    const again = await post('/v23.0/110000000000002/messages', textTo('5511987650001'));
    await sim.idle();
    expect(again.status).toBe(200);
    expect(callbacks).toHaveLength(3);
  });
});

describe('Graph API simulator: templates', () => {
  it('answers PENDING, then approves by a signed message_template_status_update', async () => {
    const answer = await post('/v23.0/210000000000001/message_templates', {
      name: 'black_friday_2026',
      language: 'pt_BR',
      category: 'MARKETING',
      components: [{ type: 'BODY', text: 'Oi' }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('PENDING');
    await sim.idle();
    expect(callbacks).toHaveLength(1);
    const [callback] = callbacks;
    expect(callback!.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(callback!.raw).digest('hex')}`);
    expect(callback!.body.entry[0].id).toBe('210000000000001');
    expect(callback!.body.entry[0].changes[0]).toEqual({
      field: 'message_template_status_update',
      value: {
        event: 'APPROVED',
        message_template_id: Number(answer.body.id),
        message_template_name: 'black_friday_2026',
        message_template_language: 'pt_BR',
        reason: 'NONE',
      },
    });
    expect(sim.submittedTemplates().at(-1)).toMatchObject({ id: answer.body.id, status: 'APPROVED' });
  });
});
