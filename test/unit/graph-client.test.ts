import { describe, expect, it } from 'vitest';
import { GraphClient } from '../../functions/adapters/graph/graph-client.js';
import { graphConfig } from '../../functions/commons/config.js';
import { WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from '../../functions/core/errors.js';

interface Call {
  url: string;
  headers: Record<string, string>;
  body: any;
}

/** A fetch that answers from a script and records every request. */
function scriptedFetch(answers: (() => Response)[]) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), headers: init?.headers as Record<string, string>, body: JSON.parse(String(init?.body)) });
    const next = answers.shift();
    if (!next) throw new Error('no more scripted answers');
    return next();
  }) as typeof fetch;
  return { calls, fetchFn };
}

const ok = (body: unknown) => () => new Response(JSON.stringify(body), { status: 200 });
const metaError = (status: number, code: number, message = 'Meta says no') => () =>
  new Response(JSON.stringify({ error: { message, type: 'OAuthException', code, fbtrace_id: 'x' } }), { status });
const sent = (wamid: string) => ok({ messaging_product: 'whatsapp', contacts: [{ input: '5511987650001', wa_id: '5511987650001' }], messages: [{ id: wamid }] });

function client(answers: (() => Response)[], maxAttempts = 3) {
  const scripted = scriptedFetch(answers);
  const sleeps: number[] = [];
  const graph = new GraphClient({
    baseUrl: 'https://graph.example.test/',
    version: 'v23.0',
    accessToken: async () => 'token-123',
    fetch: scripted.fetchFn,
    maxAttempts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { graph, calls: scripted.calls, sleeps };
}

describe('GraphClient.sendText', () => {
  it('posts to the sending number\'s messages edge with the pinned version and the token', async () => {
    const { graph, calls } = client([sent('wamid.A')]);
    const result = await graph.sendText({ phoneNumberId: '110000000000002', to: '5511987650001', text: 'Olá' });
    expect(result).toEqual({ wamid: 'wamid.A', waId: '5511987650001' });
    expect(calls[0]!.url).toBe('https://graph.example.test/v23.0/110000000000002/messages');
    expect(calls[0]!.headers.authorization).toBe('Bearer token-123');
    expect(calls[0]!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987650001',
      type: 'text',
      text: { body: 'Olá', preview_url: false },
    });
  });

  it('addresses a username-only user by BSUID in `recipient`', async () => {
    const { graph, calls } = client([sent('wamid.B')]);
    await graph.sendText({ phoneNumberId: '1', to: 'US.13491208655302741918', text: 'hi' });
    expect(calls[0]!.body.recipient).toBe('US.13491208655302741918');
    expect(calls[0]!.body.to).toBeUndefined();
  });

  it('maps 131047 (re-engagement) to WindowClosed without retrying', async () => {
    const { graph, calls } = client([metaError(400, 131047)]);
    await expect(graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' })).rejects.toBeInstanceOf(WindowClosed);
    expect(calls).toHaveLength(1);
  });

  it('retries a throughput limit (130429) with backoff and succeeds', async () => {
    const { graph, calls, sleeps } = client([metaError(400, 130429), sent('wamid.C')]);
    expect((await graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' })).wamid).toBe('wamid.C');
    expect(calls).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up on a pair-rate limit (131056) after its bounded attempts, as a retryable error', async () => {
    const { graph, calls } = client([metaError(400, 131056), metaError(400, 131056), metaError(400, 131056)], 3);
    const error = await graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppThrottled);
    expect((error as WhatsAppThrottled).retryable).toBe(true);
    expect((error as WhatsAppThrottled).details.metaCode).toBe(131056);
    expect(calls).toHaveLength(3);
  });

  it('retries 5xx and reports WhatsAppUnavailable when Meta keeps failing', async () => {
    const { graph, calls, sleeps } = client([metaError(500, 131000), metaError(503, 1), metaError(502, 1)], 3);
    await expect(graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' })).rejects.toBeInstanceOf(WhatsAppUnavailable);
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('retries a network failure', async () => {
    const { graph, calls } = client([
      () => {
        throw new TypeError('fetch failed');
      },
      sent('wamid.D'),
    ]);
    expect((await graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' })).wamid).toBe('wamid.D');
    expect(calls).toHaveLength(2);
  });

  it('turns other 4xx errors into a clear WhatsAppRejected, once', async () => {
    const { graph, calls } = client([metaError(400, 100, '(#100) Invalid parameter')]);
    const error = await graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppRejected);
    expect((error as WhatsAppRejected).details).toEqual({ metaCode: 100, metaMessage: '(#100) Invalid parameter' });
    expect((error as WhatsAppRejected).statusCode).toBe(422);
    expect(calls).toHaveLength(1);
  });

  it('refuses an answer without a wamid', async () => {
    const { graph } = client([ok({ messaging_product: 'whatsapp', messages: [] })]);
    await expect(graph.sendText({ phoneNumberId: '1', to: '15550000000', text: 'x' })).rejects.toBeInstanceOf(WhatsAppUnavailable);
  });
});

describe('GraphClient.sendTemplate', () => {
  it('sends the template with its language and biz_opaque_callback_data', async () => {
    const { graph, calls } = client([sent('wamid.T')]);
    await graph.sendTemplate({
      phoneNumberId: '110000000000002',
      to: '5511987650001',
      template: { name: 'black_friday_2026', language: 'pt_BR', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Maria' }] }] },
      bizOpaqueCallbackData: 'bc:brd_0001',
    });
    expect(calls[0]!.body).toMatchObject({
      type: 'template',
      template: { name: 'black_friday_2026', language: { code: 'pt_BR' }, components: [{ type: 'body' }] },
      biz_opaque_callback_data: 'bc:brd_0001',
    });
  });
});

describe('GraphClient.submitTemplate', () => {
  it('posts to the WABA\'s message_templates edge and returns Meta\'s id and status', async () => {
    const { graph, calls } = client([ok({ id: '880000000000001', status: 'PENDING', category: 'MARKETING' })]);
    const template = { name: 'promo', language: 'pt_BR', category: 'MARKETING', components: [{ type: 'BODY', text: 'Oi' }] };
    expect(await graph.submitTemplate('210000000000001', template)).toEqual({ id: '880000000000001', status: 'PENDING' });
    expect(calls[0]!.url).toBe('https://graph.example.test/v23.0/210000000000001/message_templates');
    expect(calls[0]!.body).toEqual(template);
  });
});

describe('graphConfig', () => {
  it('defaults to Meta\'s host and the pinned version', () => {
    expect(graphConfig({})).toEqual({ GRAPH_API_BASE_URL: 'https://graph.facebook.com', GRAPH_API_VERSION: 'v23.0' });
  });

  it('fails naming the variable when the version is malformed', () => {
    expect(() => graphConfig({ GRAPH_API_VERSION: 'latest' })).toThrow(/GRAPH_API_VERSION/);
  });
});
