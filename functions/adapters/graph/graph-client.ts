/**
 * Meta's Graph API (WhatsApp Cloud API) behind the `MessageSender` port.
 *
 * Sends go out from one number: `POST {base}/{version}/{phoneNumberId}/messages`.
 * Configuration comes in as options, read by the composition root: the
 * version is pinned (`GRAPH_API_VERSION`) so a Meta release never changes
 * behaviour under us, the base URL lets the local runtime point it at its
 * simulator, and the access token is a getter (Secrets Manager in AWS, cached
 * per container). Meta's errors become typed errors; throttling and 5xx are
 * retried here with bounded, jittered backoff.
 */
import {
  type GraphDocument,
  type GraphImage,
  type GraphInteractive,
  type GraphMedia,
  graphErrorResponse,
  graphSendResponse,
  graphTemplateResponse,
} from '../../../schemas/graph-api.js';
import { WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from '../../core/errors.js';
import { isBusinessScopedUserId } from '../../../schemas/whatsapp-ids.js';
import type {
  InteractiveContent,
  MediaContent,
  MessageSender,
  RecipientType,
  SendInteractiveRequest,
  SendMediaRequest,
  SendTemplateRequest,
  SendTextRequest,
  SentMessage,
  SubmittedTemplate,
  TemplateDefinition,
} from '../../core/messaging.js';

/** Meta's error codes we act on (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes). */
export const META_ERRORS = {
  /** Re-engagement message: more than 24 hours since the user last wrote. */
  reEngagement: 131047,
  /** Cloud API throughput reached for the number. */
  throughput: 130429,
  /** Too many messages to the same user from this number in a short time. */
  pairRate: 131056,
  /** Temporarily unavailable. */
  temporarilyUnavailable: 2,
} as const;

export interface GraphClientOptions {
  baseUrl: string;
  version: string;
  /** Read per request: the composition root's secret reader caches it per container. */
  accessToken: () => Promise<string>;
  fetch?: typeof fetch;
  /** Attempts per request, retries included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

type Failure = { retry: true; error: Error } | { retry: false; error: Error };

export class GraphClient implements MessageSender {
  private readonly fetchFn: typeof fetch;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: GraphClientOptions) {
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 4000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async sendText(request: SendTextRequest): Promise<SentMessage> {
    return this.sendMessage(request, {
      type: 'text',
      text: { body: request.text, preview_url: false },
      ...(request.bizOpaqueCallbackData ? { biz_opaque_callback_data: request.bizOpaqueCallbackData } : {}),
    });
  }

  async sendTemplate(request: SendTemplateRequest): Promise<SentMessage> {
    const { name, language, components } = request.template;
    return this.sendMessage(request, {
      type: 'template',
      template: { name, language: { code: language }, ...(components?.length ? { components } : {}) },
      ...(request.bizOpaqueCallbackData ? { biz_opaque_callback_data: request.bizOpaqueCallbackData } : {}),
    });
  }

  async sendInteractive(request: SendInteractiveRequest): Promise<SentMessage> {
    return this.sendMessage(request, {
      type: 'interactive',
      interactive: interactiveBody(request.interactive),
      ...(request.bizOpaqueCallbackData ? { biz_opaque_callback_data: request.bizOpaqueCallbackData } : {}),
    });
  }

  async sendMedia(request: SendMediaRequest): Promise<SentMessage> {
    const { type } = request.media;
    return this.sendMessage(request, {
      type,
      [type]: mediaBody(request.media),
      ...(request.bizOpaqueCallbackData ? { biz_opaque_callback_data: request.bizOpaqueCallbackData } : {}),
    });
  }

  async submitTemplate(wabaId: string, template: TemplateDefinition): Promise<SubmittedTemplate> {
    const answer = graphTemplateResponse.safeParse(await this.post(`${wabaId}/message_templates`, template));
    if (!answer.success) throw new WhatsAppUnavailable('WhatsApp answered the template submission in an unexpected shape.');
    return { id: answer.data.id, status: answer.data.status };
  }

  /** Meta's read receipt (and typing indicator): `POST /{phone-number-id}/messages {status: "read", message_id}`, answered `{success: true}`. */
  async markRead(phoneNumberId: string, wamid: string, typing?: boolean): Promise<void> {
    const answer = await this.post(`${phoneNumberId}/messages`, {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: wamid,
      ...(typing ? { typing_indicator: { type: 'text' } } : {}),
    });
    if ((answer as { success?: unknown } | undefined)?.success !== true) throw new WhatsAppUnavailable('WhatsApp answered the read receipt in an unexpected shape.');
  }

  private async sendMessage(request: { phoneNumberId: string; to: string; recipientType?: RecipientType }, content: Record<string, unknown>): Promise<SentMessage> {
    const { phoneNumberId, to } = request;
    const group = request.recipientType === 'group';
    // A group by its id in `to`; username-only users by their BSUID in `recipient`; everyone else by number in `to`.
    const addressee = !group && isBusinessScopedUserId(to) ? { recipient: to } : { to };
    const body = { messaging_product: 'whatsapp', recipient_type: group ? 'group' : 'individual', ...addressee, ...content };
    const answer = graphSendResponse.safeParse(await this.post(`${phoneNumberId}/messages`, body));
    // A 200 without a wamid: Meta may have sent it, so it must not be sent again.
    if (!answer.success) throw new WhatsAppUnavailable('WhatsApp answered the send in an unexpected shape.', 'unknown');
    const waId = answer.data.contacts?.[0]?.wa_id;
    return { wamid: answer.data.messages[0]!.id, ...(waId ? { waId } : {}) };
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/${this.options.version}/${path}`;
    const token = await this.options.accessToken();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, token, body);
      if (!('retry' in outcome)) return outcome.body;
      if (!outcome.retry || attempt >= this.maxAttempts) throw outcome.error;
      await this.sleep(Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
    }
  }

  private async attempt(url: string, token: string, body: unknown): Promise<{ body: unknown } | Failure> {
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // No answer in time: Meta may have taken it, and a send again could deliver it twice. Not retried.
      if (isTimeout(error)) return { retry: false, error: new WhatsAppUnavailable(`WhatsApp did not answer within ${this.timeoutMs} ms; the request may have been taken.`, 'unknown') };
      // A network failure (no connection, refused): a bounded retry is the documented advice.
      return { retry: true, error: new WhatsAppUnavailable() };
    }
    const text = await response.text();
    const parsed = safeJson(text);
    if (response.ok) return { body: parsed };
    return classify(response.status, parsed);
  }
}

/** Meta's `interactive` object: `button` with reply buttons, or `list` with one section of rows. */
export function interactiveBody(content: InteractiveContent): GraphInteractive {
  if (content.type === 'buttons') {
    return {
      type: 'button',
      body: { text: content.body },
      action: { buttons: content.buttons.map(({ id, title }) => ({ type: 'reply' as const, reply: { id, title } })) },
    };
  }
  return {
    type: 'list',
    body: { text: content.body },
    action: {
      button: content.buttonText,
      sections: [
        {
          ...(content.sectionTitle ? { title: content.sectionTitle } : {}),
          rows: content.rows.map(({ id, title, description }) => ({ id, title, ...(description ? { description } : {}) })),
        },
      ],
    },
  };
}

/** Meta's `image` / `document` / `video` / `audio` / `sticker` object, by link (no caption on audio and stickers). */
export function mediaBody(media: MediaContent): GraphImage | GraphDocument | GraphMedia {
  return {
    link: media.link,
    ...('caption' in media && media.caption ? { caption: media.caption } : {}),
    ...(media.type === 'document' && media.filename ? { filename: media.filename } : {}),
  };
}

/** Maps one failed Graph API answer to a typed error, and says whether retrying may help. */
export function classify(httpStatus: number, body: unknown): Failure {
  const envelope = graphErrorResponse.safeParse(body);
  const metaError = envelope.success ? envelope.data.error : undefined;
  const code = metaError?.code ?? null;
  const message = metaError?.error_data?.details ?? metaError?.error_user_msg ?? metaError?.message ?? `HTTP ${httpStatus}`;
  if (code === META_ERRORS.reEngagement) return { retry: false, error: new WindowClosed() };
  if (code === META_ERRORS.throughput || code === META_ERRORS.pairRate) return { retry: true, error: new WhatsAppThrottled(code) };
  if (httpStatus >= 500 || code === META_ERRORS.temporarilyUnavailable) {
    return { retry: true, error: new WhatsAppUnavailable(`WhatsApp failed (HTTP ${httpStatus}${code !== null ? `, code ${code}` : ''}); retry the request.`) };
  }
  if (httpStatus === 429) return { retry: true, error: new WhatsAppThrottled(code) };
  return { retry: false, error: new WhatsAppRejected(code, message) };
}

/** `AbortSignal.timeout` fired (fetch rejects with its `TimeoutError`, or an `AbortError`). */
function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
