/**
 * Reply buttons, lists, images and documents: the request bodies the Graph
 * client posts (Meta's Cloud API shapes), and the local simulator recording
 * them and refusing, as Meta does, what breaks Meta's limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '../../functions/adapters/graph/graph-client.js';
import { WhatsAppRejected, WindowClosed } from '../../functions/core/errors.js';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-simulator.js';

/** A Graph client whose fetch records each body and answers one wamid (or what `answer` says). */
function recordingClient(answer: () => Response = () => sent('wamid.X')) {
  const bodies: any[] = [];
  const urls: string[] = [];
  const graph = new GraphClient({
    baseUrl: 'https://graph.example.test',
    version: 'v23.0',
    accessToken: async () => 'token',
    maxAttempts: 1,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      urls.push(String(input));
      bodies.push(JSON.parse(String(init?.body)));
      return answer();
    }) as typeof fetch,
  });
  return { graph, bodies, urls };
}

const sent = (wamid: string) => new Response(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: '5511987650001', wa_id: '5511987650001' }], messages: [{ id: wamid }] }), { status: 200 });
const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '5511987650001' };

describe('GraphClient.sendInteractive', () => {
  it('sends reply buttons as type interactive / button with reply objects', async () => {
    const { graph, bodies, urls } = recordingClient();
    const result = await graph.sendInteractive({
      phoneNumberId: '110000000000002',
      to: '5511987650001',
      interactive: { type: 'buttons', body: 'Como podemos ajudar?', buttons: [{ id: 'sales', title: 'Vendas' }, { id: 'support', title: 'Suporte' }] },
      bizOpaqueCallbackData: 'auto:kw_1',
    });
    expect(result).toEqual({ wamid: 'wamid.X', waId: '5511987650001' });
    expect(urls[0]).toBe('https://graph.example.test/v23.0/110000000000002/messages');
    expect(bodies[0]).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Como podemos ajudar?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'sales', title: 'Vendas' } },
            { type: 'reply', reply: { id: 'support', title: 'Suporte' } },
          ],
        },
      },
      biz_opaque_callback_data: 'auto:kw_1',
    });
  });

  it('sends a list as type interactive / list with its button and one section of rows', async () => {
    const { graph, bodies } = recordingClient();
    await graph.sendInteractive({
      phoneNumberId: '1',
      to: '5511987650001',
      interactive: { type: 'list', body: 'Escolha a loja', buttonText: 'Lojas', rows: [{ id: 'cps', title: 'Campinas' }, { id: 'sp', title: 'São Paulo', description: 'Centro' }] },
    });
    expect(bodies[0]).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Escolha a loja' },
        action: {
          button: 'Lojas',
          sections: [{ rows: [{ id: 'cps', title: 'Campinas' }, { id: 'sp', title: 'São Paulo', description: 'Centro' }] }],
        },
      },
    });
  });

  it('addresses a username-only user by BSUID in recipient', async () => {
    const { graph, bodies } = recordingClient();
    await graph.sendInteractive({ phoneNumberId: '1', to: 'US.13491208655302741918', interactive: { type: 'buttons', body: 'Oi', buttons: [{ id: 'a', title: 'A' }] } });
    expect(bodies[0].recipient).toBe('US.13491208655302741918');
    expect(bodies[0].to).toBeUndefined();
  });

  it('maps Meta\'s re-engagement refusal (131047) to WindowClosed', async () => {
    const { graph } = recordingClient(
      () => new Response(JSON.stringify({ error: { message: 'Re-engagement message', type: 'OAuthException', code: 131047 } }), { status: 400 }),
    );
    await expect(graph.sendInteractive({ phoneNumberId: '1', to: '5511987650001', interactive: { type: 'buttons', body: 'Oi', buttons: [{ id: 'a', title: 'A' }] } })).rejects.toBeInstanceOf(
      WindowClosed,
    );
  });
});

describe('GraphClient.sendMedia', () => {
  it('sends an image by link with its caption', async () => {
    const { graph, bodies } = recordingClient();
    await graph.sendMedia({ phoneNumberId: '1', to: '5511987650001', media: { type: 'image', link: 'https://cdn.example.com/menu.jpg', caption: 'Cardápio' } });
    expect(bodies[0]).toEqual({ ...envelope, type: 'image', image: { link: 'https://cdn.example.com/menu.jpg', caption: 'Cardápio' } });
  });

  it('sends an image without a caption as the link only', async () => {
    const { graph, bodies } = recordingClient();
    await graph.sendMedia({ phoneNumberId: '1', to: '5511987650001', media: { type: 'image', link: 'https://cdn.example.com/a.png' } });
    expect(bodies[0]).toEqual({ ...envelope, type: 'image', image: { link: 'https://cdn.example.com/a.png' } });
  });

  it('sends a document by link with filename and caption', async () => {
    const { graph, bodies } = recordingClient();
    await graph.sendMedia({
      phoneNumberId: '1',
      to: '5511987650001',
      media: { type: 'document', link: 'https://cdn.example.com/precos.pdf', filename: 'precos.pdf', caption: 'Tabela de preços' },
      bizOpaqueCallbackData: 'x',
    });
    expect(bodies[0]).toEqual({
      ...envelope,
      type: 'document',
      document: { link: 'https://cdn.example.com/precos.pdf', caption: 'Tabela de preços', filename: 'precos.pdf' },
      biz_opaque_callback_data: 'x',
    });
  });
});

describe('Graph API simulator: interactive and media sends', () => {
  let sim: GraphSimulator;
  let graph: GraphClient;

  beforeAll(async () => {
    sim = await startGraphSimulator({
      appSecret: 'secret',
      accessToken: 'token',
      callbackDelayMs: 1,
      lookupNumber: async (pnid) => (pnid === '110000000000002' ? { displayPhoneNumber: '15550001002', wabaId: '210000000000001' } : undefined),
    });
    graph = new GraphClient({ baseUrl: sim.url, version: 'v23.0', accessToken: async () => 'token', maxAttempts: 1 });
  });

  afterAll(async () => {
    await sim.stop();
  });

  const pnid = '110000000000002';
  // 998…: the simulator makes no status callbacks (there is no webhook here).
  const to = '9985550001';

  it('records reply buttons with Meta\'s interactive object', async () => {
    const { wamid } = await graph.sendInteractive({ phoneNumberId: pnid, to, interactive: { type: 'buttons', body: 'Sim ou não?', buttons: [{ id: 'y', title: 'Sim' }, { id: 'n', title: 'Não' }] } });
    expect(sim.sentMessages().at(-1)).toEqual({
      phoneNumberId: pnid,
      to,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Sim ou não?' },
        action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Sim' } }, { type: 'reply', reply: { id: 'n', title: 'Não' } }] },
      },
      wamid,
    });
  });

  it('records a list', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, title: `Opção ${i}` }));
    await graph.sendInteractive({ phoneNumberId: pnid, to, interactive: { type: 'list', body: 'Escolha', buttonText: 'Ver opções', rows } });
    const last = sim.sentMessages().at(-1)!;
    expect(last.type).toBe('interactive');
    expect(last.interactive).toMatchObject({ type: 'list', action: { button: 'Ver opções', sections: [{ rows }] } });
  });

  it('records an image and a document with their links', async () => {
    await graph.sendMedia({ phoneNumberId: pnid, to, media: { type: 'image', link: 'https://cdn.example.com/a.jpg', caption: 'Foto' } });
    expect(sim.sentMessages().at(-1)).toMatchObject({ type: 'image', image: { link: 'https://cdn.example.com/a.jpg', caption: 'Foto' } });
    await graph.sendMedia({ phoneNumberId: pnid, to, media: { type: 'document', link: 'https://cdn.example.com/a.pdf', filename: 'a.pdf' } });
    const last = sim.sentMessages().at(-1)!;
    expect(last).toMatchObject({ type: 'document', document: { link: 'https://cdn.example.com/a.pdf', filename: 'a.pdf' } });
    expect(last.text).toBeUndefined();
  });

  it('refuses four buttons, a 21-character title and eleven rows like Meta (131009), recording nothing', async () => {
    const before = sim.sentMessages().length;
    const four = Array.from({ length: 4 }, (_, i) => ({ id: `b${i}`, title: `B${i}` }));
    const attempts = [
      graph.sendInteractive({ phoneNumberId: pnid, to, interactive: { type: 'buttons', body: 'x', buttons: four } }),
      graph.sendInteractive({ phoneNumberId: pnid, to, interactive: { type: 'buttons', body: 'x', buttons: [{ id: 'a', title: 'x'.repeat(21) }] } }),
      graph.sendInteractive({
        phoneNumberId: pnid,
        to,
        interactive: { type: 'list', body: 'x', buttonText: 'Ver', rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `R${i}` })) },
      }),
      graph.sendMedia({ phoneNumberId: pnid, to, media: { type: 'image', link: 'not a url' } }),
    ];
    for (const attempt of attempts) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WhatsAppRejected);
      expect((error as WhatsAppRejected).details).toMatchObject({ metaCode: 131009 });
    }
    expect(sim.sentMessages()).toHaveLength(before);
  });
});
