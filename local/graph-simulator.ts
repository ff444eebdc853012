/**
 * A Graph API (WhatsApp Cloud API) simulator for the local runtime
 * (docs/architecture.md, "The local runtime"). It listens on its own loopback
 * port, which the runtime hands to the handlers as `GRAPH_API_BASE_URL`.
 *
 * Like Meta it:
 * - checks the bearer token (401, code 190, when wrong);
 * - answers `POST /{version}/{phone-number-id}/messages` with a new wamid,
 *   then calls the runtime's webhook back, signed with the app secret
 *   (`X-Hub-Signature-256` over the exact bytes), with `sent`, `delivered`
 *   and `read` for that wamid, in that order, each a little later, carrying
 *   the sending number's `display_phone_number`/`phone_number_id` and the
 *   send's `biz_opaque_callback_data`. A recipient starting `999` gets
 *   `failed` (131026) instead; one starting `998` gets no callbacks at all;
 * - checks interactive messages (reply buttons, lists) and media (image,
 *   document, video, audio, sticker) against Meta's limits (`schemas/graph-api.ts`) and refuses a
 *   send outside them as Meta does (400, code 131009, the rule in
 *   `error_data.details`);
 * - serves received media as Meta does (`local/graph-media.ts`): files
 *   registered with `POST /local/graph/media` on the runtime are described by
 *   `GET /{version}/{media-id}` and downloaded from the URL it gives, both
 *   with the bearer token;
 * - answers `POST /{version}/{waba-id}/message_templates` with
 *   `{id, status: "PENDING"}`, then approves it by a signed
 *   `message_template_status_update` webhook.
 *
 * A callback the webhook refuses (non-2xx) or cannot take is logged, never
 * thrown: the runtime keeps running.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/adapters/dynamo/client.js';
import { phoneNumberIdRoute } from '../functions/adapters/dynamo/entities/numbers.js';
import { graphAudio, graphDocument, graphImage, graphInteractive, graphSticker, graphVideo } from '../schemas/graph-api.js';
import { SimulatedMediaLibrary } from './graph-media.js';
import { readBody, sendJson } from './http-event.js';

/** What the simulator was asked to send: `GET /local/graph/messages` lists these. */
export interface SimulatedSend {
  phoneNumberId: string;
  to: string;
  /** `group` when sent to a WhatsApp group (`to` is the group's id). */
  recipientType?: 'group';
  type: string;
  text?: string;
  template?: unknown;
  /** Meta's `interactive` object as sent (`type: "button"` or `"list"`). */
  interactive?: unknown;
  /** Meta's `image` object as sent (`{link, caption?}`). */
  image?: unknown;
  /** Meta's `document` object as sent (`{link, caption?, filename?}`). */
  document?: unknown;
  /** Meta's `video` (`{link, caption?}`), `audio` and `sticker` (`{link}`) objects as sent. */
  video?: unknown;
  audio?: unknown;
  sticker?: unknown;
  wamid: string;
  bizOpaqueCallbackData?: string;
}

/** A read receipt the simulator was sent (`typing`: with the typing indicator). */
export interface SimulatedReadReceipt {
  phoneNumberId: string;
  messageId: string;
  typing: boolean;
  at: string;
}

export interface SimulatedTemplate {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category?: string;
  status: 'PENDING' | 'APPROVED';
}

/** The sending number as Meta knows it: its metadata goes into every status callback. */
export interface SimulatedNumber {
  displayPhoneNumber: string;
  wabaId: string;
}

export interface GraphSimulatorOptions {
  /** Signs callbacks exactly as Meta does: HMAC-SHA256 of the body with the app secret. */
  appSecret: string;
  /** The token the Graph API client must present. */
  accessToken: string;
  /** Finds the sending number; unknown ids are refused as Meta refuses them. */
  lookupNumber: (phoneNumberId: string) => Promise<SimulatedNumber | undefined>;
  /** Base URL of the runtime whose `/webhook` is called back; set later with `setWebhookBaseUrl` when unknown yet. */
  webhookBaseUrl?: string;
  /** Pause before each callback. */
  callbackDelayMs?: number;
  log?: (line: string) => void;
}

export interface GraphSimulator {
  /** Base URL to use as `GRAPH_API_BASE_URL`. */
  url: string;
  setWebhookBaseUrl(url: string): void;
  sentMessages(): SimulatedSend[];
  submittedTemplates(): SimulatedTemplate[];
  /** Read receipts (and typing indicators) asked for: `GET /local/graph/read-receipts` lists these. */
  readReceipts(): SimulatedReadReceipt[];
  /** Resolves when every scheduled callback has been made. */
  idle(): Promise<void>;
  /** Received media it serves (`local/graph-media.ts`): `POST /local/graph/media` registers files here. */
  media: SimulatedMediaLibrary;
  stop(): Promise<void>;
}

/** What each checked type's part must look like. */
const CHECKED_PARTS = { interactive: graphInteractive, image: graphImage, document: graphDocument, video: graphVideo, audio: graphAudio, sticker: graphSticker } as const;

/** Error 131026: the message could not be delivered (not a WhatsApp user, old app, …). */
const UNDELIVERABLE = {
  code: 131026,
  title: 'Message undeliverable',
  message: 'Message undeliverable',
  error_data: { details: 'Message Undeliverable.' },
};

export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  const log = options.log ?? (() => undefined);
  const delayMs = options.callbackDelayMs ?? 30;
  let webhookBaseUrl = options.webhookBaseUrl;
  let stopped = false;
  const sends: SimulatedSend[] = [];
  const templates: SimulatedTemplate[] = [];
  const receipts: SimulatedReadReceipt[] = [];

  /** A read receipt (`{status: "read", message_id, typing_indicator?}`): recorded, answered `{success: true}` as Meta does. */
  function readReceipt(res: ServerResponse, phoneNumberId: string, body: Record<string, unknown>) {
    const typing = body.typing_indicator as { type?: unknown } | undefined;
    if (body.messaging_product !== 'whatsapp' || typeof body.message_id !== 'string' || (typing !== undefined && typing?.type !== 'text')) {
      metaError(res, 400, '(#100) Invalid parameter', 'OAuthException', 100);
      return;
    }
    receipts.push({ phoneNumberId, messageId: body.message_id, typing: typing !== undefined, at: new Date().toISOString() });
    sendJson(res, 200, { success: true });
  }
  const pending = new Set<Promise<void>>();
  const media = new SimulatedMediaLibrary();
  let ownUrl = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`graph simulator error: ${(error as Error).stack ?? error}`);
      if (!res.headersSent) metaError(res, 500, 'An unexpected error has occurred. Please retry your request later.', 'OAuthException', 2);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const body = await readBody(req, 5 * 1024 * 1024);
    if (req.headers.authorization !== `Bearer ${options.accessToken}`) {
      metaError(res, 401, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException', 190);
      return;
    }
    // Received media: GET /{version}/{media-id} and its download URL (the token checked above, as Meta does).
    if (media.handle(req, res, ownUrl)) return;
    const match = /^\/(v\d+\.\d+)\/([^/]+)\/(messages|message_templates)$/.exec(path);
    if (!match || req.method !== 'POST' || body === 'too-large') {
      metaError(res, 400, `Unsupported ${req.method} request.`, 'GraphMethodException', 100);
      return;
    }
    const json = parseJson(body);
    if (!json) {
      metaError(res, 400, '(#100) Invalid parameter', 'OAuthException', 100);
      return;
    }
    if (match[3] === 'messages') await send(res, match[2]!, json);
    else submitTemplate(res, match[2]!, json);
  }

  async function send(res: ServerResponse, phoneNumberId: string, body: Record<string, unknown>) {
    const number = await options.lookupNumber(phoneNumberId);
    if (!number) {
      metaError(res, 400, `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, 'GraphMethodException', 100, 33);
      return;
    }
    if (body.status === 'read') {
      readReceipt(res, phoneNumberId, body);
      return;
    }
    const to = typeof body.to === 'string' ? body.to : typeof body.recipient === 'string' ? body.recipient : undefined;
    const type = typeof body.type === 'string' ? body.type : 'text';
    const text = type === 'text' ? (body.text as { body?: unknown } | undefined)?.body : undefined;
    if (body.messaging_product !== 'whatsapp' || !to || (type === 'text' && typeof text !== 'string') || (type === 'template' && !body.template)) {
      metaError(res, 400, '(#100) Invalid parameter', 'OAuthException', 100);
      return;
    }
    const checked = Object.hasOwn(CHECKED_PARTS, type) ? CHECKED_PARTS[type as keyof typeof CHECKED_PARTS].safeParse(body[type]) : undefined;
    if (checked && !checked.success) {
      const issue = checked.error.issues[0];
      const details = `${[type, ...(issue?.path ?? []).map(String)].join('.')}: ${issue?.message ?? 'invalid'}`;
      metaError(res, 400, '(#131009) Parameter value is not valid', 'OAuthException', 131009, undefined, details);
      return;
    }
    const wamid = `wamid.${Buffer.from(`SIM:${to}:${randomBytes(9).toString('hex')}`).toString('base64')}`;
    const bizOpaqueCallbackData = typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data : undefined;
    // A group is addressed by its id (never digits only): its statuses name the group, as Meta's do.
    const group = body.recipient_type === 'group';
    sends.push({
      phoneNumberId,
      to,
      ...(group ? { recipientType: 'group' as const } : {}),
      type,
      ...(typeof text === 'string' ? { text } : {}),
      ...(type === 'template' ? { template: body.template } : {}),
      ...(checked ? { [type]: body[type] } : {}),
      wamid,
      ...(bizOpaqueCallbackData ? { bizOpaqueCallbackData } : {}),
    });
    sendJson(res, 200, {
      messaging_product: 'whatsapp',
      ...(group ? {} : { contacts: [{ input: to, wa_id: to.replace(/\D/g, '') || to }] }),
      messages: [{ id: wamid, ...(type === 'template' ? { message_status: 'accepted' } : {}) }],
    });

    const recipient = group ? to : to.replace(/\D/g, '');
    if (recipient.startsWith('998')) return; // tests that send the statuses themselves
    const statuses = recipient.startsWith('999') ? (['failed'] as const) : (['sent', 'delivered', 'read'] as const);
    const category = type === 'template' ? 'marketing' : 'service';
    schedule(
      statuses.map((status) => () =>
        statusPayload(number, phoneNumberId, {
          id: wamid,
          status,
          timestamp: String(Math.floor(Date.now() / 1000)),
          recipient_id: recipient || to,
          ...(group ? { recipient_type: 'group' } : {}),
          ...(bizOpaqueCallbackData ? { biz_opaque_callback_data: bizOpaqueCallbackData } : {}),
          ...(status === 'failed'
            ? { errors: [UNDELIVERABLE] }
            : status === 'read'
              ? {}
              : { pricing: { billable: category !== 'service', pricing_model: 'PMP', category, type: category === 'service' ? 'free_customer_service' : 'regular' } }),
        }),
      ),
    );
  }

  function submitTemplate(res: ServerResponse, wabaId: string, body: Record<string, unknown>) {
    const name = typeof body.name === 'string' ? body.name : undefined;
    const language = typeof body.language === 'string' ? body.language : undefined;
    if (!name || !language || !Array.isArray(body.components)) {
      metaError(res, 400, '(#100) Invalid parameter', 'OAuthException', 100);
      return;
    }
    const template: SimulatedTemplate = {
      id: String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000, 999_999)),
      wabaId,
      name,
      language,
      ...(typeof body.category === 'string' ? { category: body.category } : {}),
      status: 'PENDING',
    };
    templates.push(template);
    sendJson(res, 200, { id: template.id, status: 'PENDING', category: template.category ?? 'MARKETING' });
    schedule([
      () => {
        template.status = 'APPROVED';
        return {
          object: 'whatsapp_business_account',
          entry: [
            {
              id: wabaId,
              time: Math.floor(Date.now() / 1000),
              changes: [
                {
                  field: 'message_template_status_update',
                  value: {
                    event: 'APPROVED',
                    message_template_id: Number(template.id),
                    message_template_name: name,
                    message_template_language: language,
                    reason: 'NONE',
                  },
                },
              ],
            },
          ],
        };
      },
    ]);
  }

  /** Runs the callbacks one after the other, each after a pause, in the background. */
  function schedule(callbacks: (() => unknown)[]) {
    const run = (async () => {
      for (const build of callbacks) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (stopped) return;
        await deliver(build());
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  async function deliver(payload: unknown) {
    if (!webhookBaseUrl) {
      log('graph simulator: no webhook URL yet; callback dropped');
      return;
    }
    const raw = JSON.stringify(payload);
    const signature = createHmac('sha256', options.appSecret).update(raw, 'utf8').digest('hex');
    try {
      const response = await fetch(`${webhookBaseUrl}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` },
        body: raw,
      });
      if (!response.ok) log(`graph simulator: webhook answered ${response.status} to a callback: ${(await response.text()).slice(0, 300)}`);
      else await response.arrayBuffer();
    } catch (error) {
      log(`graph simulator: webhook callback failed: ${(error as Error).message}`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  ownUrl = url;

  return {
    url,
    media,
    setWebhookBaseUrl(value) {
      webhookBaseUrl = value;
    },
    sentMessages: () => sends.map((send) => ({ ...send })),
    submittedTemplates: () => templates.map((template) => ({ ...template })),
    readReceipts: () => receipts.map((receipt) => ({ ...receipt })),
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    async stop() {
      stopped = true;
      await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A `messages` change with one status, in Meta's payload shape. */
function statusPayload(number: SimulatedNumber, phoneNumberId: string, status: Record<string, unknown>) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: number.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: number.displayPhoneNumber, phone_number_id: phoneNumberId },
              statuses: [status],
            },
          },
        ],
      },
    ],
  };
}

function metaError(res: ServerResponse, httpStatus: number, message: string, type: string, code: number, subcode?: number, details?: string) {
  sendJson(res, httpStatus, {
    error: {
      message,
      type,
      code,
      ...(subcode ? { error_subcode: subcode } : {}),
      ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
      fbtrace_id: `sim${randomBytes(6).toString('hex')}`,
    },
  });
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Looks numbers up where the webhook does: the `PNID#{phoneNumberId}` route
 * row written when a number is connected (`POST /v1/numbers`).
 */
export function tableNumberLookup(target: { endpoint: string; tableName: string }): (phoneNumberId: string) => Promise<SimulatedNumber | undefined> {
  const doc = createDocumentClient({ tableName: target.tableName, endpoint: target.endpoint });
  return async (phoneNumberId) => {
    const { Item } = await doc.send(new GetCommand({ TableName: target.tableName, Key: phoneNumberIdRoute.key({ phoneNumberId }) }));
    if (!Item || typeof Item.whatsapp_phno !== 'string') return undefined;
    return { displayPhoneNumber: Item.whatsapp_phno, wabaId: String(Item.wabaId ?? '') };
  };
}
