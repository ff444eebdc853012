/**
 * Media out and templates from the inbox (issue 18), through the API router
 * on DynamoDB Local: `POST /v1/uploads` checks Meta's media rules before
 * handing out a PUT; an upload (once its bytes are there) or a link goes out
 * as `image|video|audio|document|sticker` inside the 24-hour window only;
 * with the window closed a `template` approved on the number goes out, is
 * charged the rate card's price once (also when retried with the same
 * `Idempotency-Key`), and an unapproved template or a wrong parameter count
 * is refused before anything is charged.
 *
 * The media store is an in-memory fake of our `MediaStore` port (the S3 and
 * local adapters are tested with their own files).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { SafeHttpTransport } from '../../functions/adapters/http/safe-http.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { recordStatusUpdate } from '../../functions/core/inbox-consumer.js';
import type { MediaStore, StoredObject, UploadTarget } from '../../functions/core/media-ports.js';
import type { SendMediaRequest, SendTextRequest, SentMessage } from '../../functions/core/messaging.js';
import type { InboxStatusUpdated } from '../../schemas/inbox.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import { call } from '../support/api-events.js';
import { FLAT_RATE_CARD, RecordingSender, ledgerOf } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { statusEvent } from '../support/inbox.js';
import { PRICE, limitWorld, limitedAccount, openWindow } from '../support/messaging-limit.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('inbox-media-tpl');
});

const HOUR = 3_600_000;
const MB = 1024 * 1024;

/** The `MediaStore` port in memory: the PUT a client would make is `put`; URLs name the key. */
class MemoryMediaStore implements MediaStore {
  readonly objects = new Map<string, { bytes: Uint8Array; contentType: string }>();
  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { bytes, contentType });
  }
  async urlFor(key: string, options?: { fileName?: string }): Promise<string> {
    return `https://media.test/get/${key}?sig=ok${options?.fileName ? `&name=${encodeURIComponent(options.fileName)}` : ''}`;
  }
  async uploadTargetFor(key: string, contentType: string, sizeBytes: number): Promise<UploadTarget> {
    return {
      url: `https://media.test/put/${key}?sig=ok`,
      method: 'PUT',
      headers: { 'content-type': contentType, 'content-length': String(sizeBytes) },
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    };
  }
  async head(key: string): Promise<StoredObject | undefined> {
    const object = this.objects.get(key);
    return object ? { sizeBytes: object.bytes.byteLength, contentType: object.contentType } : undefined;
  }
}

/** Meta, faked at our port: templates as the broadcasts' sender records them, plus texts and media. */
class InboxSender extends RecordingSender {
  readonly media: SendMediaRequest[] = [];
  readonly texts: SendTextRequest[] = [];
  // The base class takes no request (broadcasts never send these): optional here to stay its subtype.
  override async sendMedia(request?: SendMediaRequest): Promise<SentMessage> {
    this.media.push(request!);
    return { wamid: `wamid.MEDIA.${this.media.length}.${Math.random().toString(36).slice(2, 8)}` };
  }
  override async sendText(request?: SendTextRequest): Promise<SentMessage> {
    this.texts.push(request!);
    return { wamid: `wamid.TEXT.${this.texts.length}.${Math.random().toString(36).slice(2, 8)}` };
  }
}

/** Every host resolves to one public address: links are judged by scheme and shape, not by this sandbox's DNS. */
const publicDns = async () => [{ address: '93.184.216.34', family: 4 as const }];

async function inbox() {
  const messaging = new InboxSender();
  const world = limitWorld(table, { messaging });
  const { accountId, numbers } = await limitedAccount(world, 1, 10 * PRICE);
  const main = numbers[0]!;
  const media = new MemoryMediaStore();
  const api = createApi(
    createApiDeps(table.doc, table.tableName, {
      events: new RecordingPublisher(),
      messaging,
      rateCard: FLAT_RATE_CARD,
      clock: world.clock,
      media,
      webhookTransport: new SafeHttpTransport({ allowHttp: false, allowLoopback: false, resolve: publicDns }),
    }),
  );
  const as = (role: 'agent' | 'admin') => ({ role, accountId });
  const upload = (body: unknown, headers?: Record<string, string>) =>
    call(api, { method: 'POST', path: '/v1/uploads', as: as('agent'), body, ...(headers ? { headers } : {}) });
  const conversation = (waId: string) => conversationIdOf(main.whatsapp_phno, waId);
  // Admin: these tests are about what goes out, not about which numbers an agent's teams cover.
  const send = (waId: string, body: unknown, headers?: Record<string, string>) =>
    call(api, { method: 'POST', path: `/v1/conversations/${conversation(waId)}/messages`, as: as('admin'), body, ...(headers ? { headers } : {}) });
  const messages = (waId: string) => call(api, { method: 'GET', path: `/v1/conversations/${conversation(waId)}/messages`, as: as('admin') });
  /** A user who wrote a minute ago (window open) or two days ago (closed). */
  const contact = async (waId: string, window: 'open' | 'closed') => openWindow(world, accountId, main.whatsapp_phno, [waId], window === 'open' ? 60_000 : 48 * HOUR);
  const balance = () => world.deps.accounts.balance(accountId);
  return { world, messaging, accountId, main, media, upload, send, messages, contact, balance };
}

/** Approves a template with these components on the number (as the webhook's status event would). */
async function storeTemplate(
  world: ReturnType<typeof limitWorld>,
  accountId: string,
  number: { whatsapp_phno: string; wabaId: string },
  name: string,
  components: unknown[],
  approved = true,
) {
  const at = new Date().toISOString();
  await world.consumer.templates.createIfAbsent({ accountId, name, language: 'en_US', category: 'MARKETING', components, numbers: {}, wabas: {}, createdAt: at, updatedAt: at });
  const status = approved ? 'APPROVED' : 'REJECTED';
  await world.consumer.templates.applyMetaStatus({ accountId, name, language: 'en_US' }, { whatsappPhno: number.whatsapp_phno, wabaId: number.wabaId, status, occurredAt: at }, at);
}

const issuePaths = (res: { body: any }) => (res.body.error.issues as { path: string[] }[]).map((i) => i.path.join('.'));

describe('POST /v1/uploads', () => {
  it("checks Meta's media rules before anything: each broken rule is a 400 naming the field", async () => {
    const { upload, media } = await inbox();
    const refused: [unknown, string][] = [
      [{ fileName: 'a.gif', mimeType: 'image/gif', sizeBytes: 10 }, 'body.mimeType'],
      [{ fileName: 'a.exe', mimeType: 'application/x-msdownload', sizeBytes: 10 }, 'body.mimeType'],
      [{ fileName: 'a.ogg', mimeType: 'audio/ogg; codecs=vorbis', sizeBytes: 10 }, 'body.mimeType'],
      [{ fileName: 'a.jpg', mimeType: 'image/jpeg', sizeBytes: 5 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.png', mimeType: 'image/png', sizeBytes: 5 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.mp4', mimeType: 'video/mp4', sizeBytes: 16 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.3gp', mimeType: 'video/3gpp', sizeBytes: 16 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.mp3', mimeType: 'audio/mpeg', sizeBytes: 16 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.pdf', mimeType: 'application/pdf', sizeBytes: 100 * MB + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.webp', mimeType: 'image/webp', sizeBytes: 100 * 1024 + 1 }, 'body.sizeBytes'],
      [{ fileName: 'a.webp', mimeType: 'image/webp', sizeBytes: 500 * 1024 + 1, animated: true }, 'body.sizeBytes'],
      [{ fileName: 'a.pdf', mimeType: 'application/pdf', sizeBytes: 0 }, 'body.sizeBytes'],
      [{ fileName: '../a.pdf', mimeType: 'application/pdf', sizeBytes: 10 }, 'body.fileName'],
      [{ mimeType: 'application/pdf', sizeBytes: 10 }, 'body.fileName'],
    ];
    for (const [body, field] of refused) {
      const res = await upload(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(issuePaths(res), JSON.stringify(body)).toContain(field);
    }
    // The largest of each kind is taken, and each type becomes its kind.
    const taken: [unknown, string][] = [
      [{ fileName: 'a.jpg', mimeType: 'image/jpeg', sizeBytes: 5 * MB }, 'image'],
      [{ fileName: 'a.mp4', mimeType: 'video/mp4', sizeBytes: 16 * MB }, 'video'],
      [{ fileName: 'a.m4a', mimeType: 'audio/mp4', sizeBytes: 16 * MB }, 'audio'],
      [{ fileName: 'a.ogg', mimeType: 'audio/ogg; codecs=opus', sizeBytes: 1000 }, 'audio'],
      [{ fileName: 'a.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', sizeBytes: 100 * MB }, 'document'],
      [{ fileName: 'a.webp', mimeType: 'image/webp', sizeBytes: 500 * 1024, animated: true }, 'sticker'],
    ];
    for (const [body, kind] of taken) {
      const res = await upload(body);
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(res.body.kind).toBe(kind);
    }
    // Nothing is stored by handing out a target.
    expect(media.objects.size).toBe(0);
  });

  it('answers 201 with a PUT bound to the type and size; the same Idempotency-Key replays the same upload', async () => {
    const { upload } = await inbox();
    const body = { fileName: 'invoice-1042.pdf', mimeType: 'application/pdf', sizeBytes: 48_213 };
    const first = await upload(body, { 'Idempotency-Key': 'upl-1' });
    expect(first.status).toBe(201);
    expect(first.body.uploadId).toMatch(/^upl_/);
    expect(first.body.kind).toBe('document');
    expect(first.body.upload).toMatchObject({ method: 'PUT', headers: { 'content-type': 'application/pdf', 'content-length': '48213' } });
    expect(first.body.upload.url).toContain(`uploads/`);
    expect(first.body.upload.url).toContain(first.body.uploadId);
    const again = await upload(body, { 'Idempotency-Key': 'upl-1' });
    expect(again.status).toBe(201);
    expect(again.body.uploadId).toBe(first.body.uploadId);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});

describe('media replies', () => {
  it('sends an uploaded PDF as a document Meta fetches by a presigned link, with its file name, and shows it in the view', async () => {
    const { upload, send, messages, media, messaging, contact, accountId } = await inbox();
    const waId = '13310000001';
    await contact(waId, 'open');
    const bytes = new TextEncoder().encode('%PDF-1.7 invoice 1042');
    const created = await upload({ fileName: 'invoice-1042.pdf', mimeType: 'application/pdf', sizeBytes: bytes.byteLength });
    const { uploadId } = created.body;

    // Not uploaded yet: 409 naming the upload, nothing sent.
    const early = await send(waId, { document: { uploadId } });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('UPLOAD_INCOMPLETE');
    expect(early.body.error.field).toBe('body.document.uploadId');
    expect(messaging.media).toHaveLength(0);

    // The client PUTs the bytes (the store's target), then sends.
    await media.put(`uploads/${accountId}/${uploadId}`, bytes, 'application/pdf');
    const sent = await send(waId, { document: { uploadId, caption: 'Your invoice' } });
    expect(sent.status).toBe(202);
    expect(messaging.media).toHaveLength(1);
    const out = messaging.media[0]!;
    expect(out.to).toBe(waId);
    expect(out.media.type).toBe('document');
    expect(out.media).toMatchObject({ filename: 'invoice-1042.pdf', caption: 'Your invoice' });
    expect(out.media.link).toMatch(/^https:\/\/media\.test\/get\/uploads\/.+\?sig=ok/);

    const listed = await messages(waId);
    const view = listed.body.items.find((m: { wamid: string }) => m.wamid === sent.body.wamid);
    expect(view).toMatchObject({ direction: 'out', type: 'document', text: 'Your invoice' });
    expect(view.media).toMatchObject({ mimeType: 'application/pdf', fileName: 'invoice-1042.pdf', caption: 'Your invoice', sizeBytes: bytes.byteLength });
  });

  it('refuses an upload of another kind, of another account, or whose bytes differ from what was announced', async () => {
    const { upload, send, media, messaging, contact, accountId } = await inbox();
    const waId = '13320000001';
    await contact(waId, 'open');
    const image = await upload({ fileName: 'photo.jpg', mimeType: 'image/jpeg', sizeBytes: 4 });
    await media.put(`uploads/${accountId}/${image.body.uploadId}`, new Uint8Array([1, 2, 3, 4]), 'image/jpeg');
    const wrongKind = await send(waId, { document: { uploadId: image.body.uploadId } });
    expect(wrongKind.status).toBe(400);
    expect(issuePaths(wrongKind)).toEqual(['body.document.uploadId']);

    const other = await inbox();
    const foreign = await send(waId, { image: { uploadId: (await other.upload({ fileName: 'x.jpg', mimeType: 'image/jpeg', sizeBytes: 4 })).body.uploadId } });
    expect(foreign.status).toBe(400);
    expect(issuePaths(foreign)).toEqual(['body.image.uploadId']);

    const short = await upload({ fileName: 'clip.mp4', mimeType: 'video/mp4', sizeBytes: 1000 });
    await media.put(`uploads/${accountId}/${short.body.uploadId}`, new Uint8Array(10), 'video/mp4');
    const mismatch = await send(waId, { video: { uploadId: short.body.uploadId } });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.field).toBe('body.video.uploadId');

    expect((await send(waId, { image: { uploadId: image.body.uploadId, caption: 'Here' } })).status).toBe(202);
    expect(messaging.media.map((m) => m.media.type)).toEqual(['image']);
  });

  it('sends a link (https only) and video, audio and sticker parts; refuses fields a kind does not take', async () => {
    const { send, messages, messaging, contact } = await inbox();
    const waId = '13330000001';
    await contact(waId, 'open');
    const link = 'https://cdn.example.com/catalog.pdf';
    const sent = await send(waId, { document: { link, fileName: 'catalog.pdf' } });
    expect(sent.status).toBe(202);
    expect(messaging.media[0]!.media).toEqual({ type: 'document', link, filename: 'catalog.pdf' });
    expect((await send(waId, { video: { link: 'https://cdn.example.com/a.mp4', caption: 'Demo' } })).status).toBe(202);
    expect((await send(waId, { audio: { link: 'https://cdn.example.com/a.ogg' } })).status).toBe(202);
    expect((await send(waId, { sticker: { link: 'https://cdn.example.com/a.webp' } })).status).toBe(202);
    expect(messaging.media.map((m) => m.media)).toEqual([
      { type: 'document', link, filename: 'catalog.pdf' },
      { type: 'video', link: 'https://cdn.example.com/a.mp4', caption: 'Demo' },
      { type: 'audio', link: 'https://cdn.example.com/a.ogg' },
      { type: 'sticker', link: 'https://cdn.example.com/a.webp' },
    ]);
    const view = (await messages(waId)).body.items.find((m: { wamid: string }) => m.wamid === sent.body.wamid);
    expect(view.media).toMatchObject({ fileName: 'catalog.pdf', url: link });

    const http = await send(waId, { image: { link: 'http://cdn.example.com/a.jpg' } });
    expect(http.status).toBe(400);
    expect(issuePaths(http)).toEqual(['body.image.link']);
    const captionOnAudio = await send(waId, { audio: { link: 'https://cdn.example.com/a.ogg', caption: 'no' } });
    expect(issuePaths(captionOnAudio)).toEqual(['body.audio.caption']);
    const both = await send(waId, { image: { link: 'https://cdn.example.com/a.jpg', uploadId: 'upl_abcdef12' } });
    expect(both.status).toBe(400);
    const two = await send(waId, { text: 'hi', image: { link: 'https://cdn.example.com/a.jpg' } });
    expect(issuePaths(two)).toEqual(['body.image']);
    expect(messaging.media).toHaveLength(4);
  });
});

describe('the window closes: a template goes out from the inbox', () => {
  it('refuses media and text with 409 WINDOW_CLOSED, while a template is sent, delivered and charged once, also when retried', async () => {
    const { world, accountId, main, send, messages, messaging, contact, balance } = await inbox();
    const waId = '13340000001';
    await contact(waId, 'closed');
    await storeTemplate(world, accountId, main, 'order_ready', [{ type: 'BODY', text: 'Hi {{1}}, your order {{2}} is ready.' }]);

    const media = await send(waId, { image: { link: 'https://cdn.example.com/a.jpg' } });
    expect(media.status).toBe(409);
    expect(media.body.error.code).toBe('WINDOW_CLOSED');
    const text = await send(waId, { text: 'Are you there?' });
    expect(text.status).toBe(409);
    expect(text.body.error.code).toBe('WINDOW_CLOSED');
    expect(messaging.media).toHaveLength(0);
    expect(messaging.texts).toHaveLength(0);

    const before = await balance();
    const ledgerBefore = (await ledgerOf(world, accountId)).length;
    const body = { template: { name: 'order_ready', language: 'en_US', parameters: ['Maria', '#1042'] } };
    const headers = { 'Idempotency-Key': 'tpl-order-1042' };
    const first = await send(waId, body, headers);
    expect(first.status).toBe(202);
    const retried = await send(waId, body, headers);
    expect(retried.status).toBe(202);
    expect(retried.body.wamid).toBe(first.body.wamid);
    expect(retried.headers['idempotent-replayed']).toBe('true');

    expect(messaging.sends).toHaveLength(1);
    expect(messaging.sends[0]).toMatchObject({
      to: waId,
      phoneNumberId: main.phoneNumberId,
      template: { name: 'order_ready', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Maria' }, { type: 'text', text: '#1042' }] }] },
    });
    expect(await balance()).toBe(before - PRICE);
    // One reservation and its settlement: the price taken once.
    const entries = (await ledgerOf(world, accountId)).slice(ledgerBefore) as { reason?: string; deltaMicros?: number; amountMicros?: number }[];
    expect(entries.filter((e) => e.reason === 'inbox:reserve')).toHaveLength(1);
    expect(entries.filter((e) => e.reason === 'inbox:settle')).toHaveLength(1);
    expect(entries.filter((e) => e.reason === 'inbox:reserve' || e.reason === 'inbox:settle')).toHaveLength(entries.length);

    // It is in the conversation as an outbound template, and Meta's statuses (through the inbox consumer) move it to delivered.
    const inboxDeps = { inbox: new DynamoInboxRepository(table.doc, table.tableName, world.clock) };
    for (const status of ['sent', 'delivered']) {
      const event = statusEvent(accountId, { wamid: first.body.wamid, status, recipient: waId, number: main });
      expect(await recordStatusUpdate(inboxDeps, event.detail as InboxStatusUpdated)).toBe('applied');
    }
    const stored = (await messages(waId)).body.items.find((m: { wamid: string }) => m.wamid === first.body.wamid);
    expect(stored).toMatchObject({ direction: 'out', type: 'template', text: '[template] order_ready', status: 'delivered' });
  });

  it('refuses an unknown template (404) and one not approved on the number (409), naming body.template.name, charging nothing', async () => {
    const { world, accountId, main, send, messaging, contact, balance } = await inbox();
    const waId = '13350000001';
    await contact(waId, 'closed');
    await storeTemplate(world, accountId, main, 'rejected_promo', [{ type: 'BODY', text: 'Hello' }], false);
    const before = await balance();

    const unknown = await send(waId, { template: { name: 'never_made', language: 'en_US' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('body.template.name');

    const rejected = await send(waId, { template: { name: 'rejected_promo', language: 'en_US' } });
    expect(rejected.status).toBe(409);
    expect(rejected.body.error.code).toBe('TEMPLATE_NOT_APPROVED');
    expect(rejected.body.error.field).toBe('body.template.name');

    expect(messaging.sends).toHaveLength(0);
    expect(await balance()).toBe(before);
  });

  it('refuses a template to a group conversation (400 naming body.template), while media goes to the group', async () => {
    const { world, accountId, main, send, messaging } = await inbox();
    const contactKey = 'group.G1234567890';
    const at = world.clock.now().getTime() - 60_000;
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: entities.conversation.item(
          { accountId, whatsappPhno: main.whatsapp_phno, contactKey, lastMessageAt: new Date(at).toISOString() },
          { accountId, whatsapp_phno: main.whatsapp_phno, contactKey, kind: 'group', groupId: 'G1234567890', windowOpenUntil: new Date(at + 24 * HOUR).toISOString() },
        ),
      }),
    );
    await storeTemplate(world, accountId, main, 'group_news', [{ type: 'BODY', text: 'News' }]);
    const template = await send(contactKey, { template: { name: 'group_news', language: 'en_US' } });
    expect(template.status).toBe(400);
    expect(issuePaths(template)).toEqual(['body.template']);
    expect(messaging.sends).toHaveLength(0);
    const image = await send(contactKey, { image: { link: 'https://cdn.example.com/a.jpg' } });
    expect(image.status).toBe(202);
    expect(messaging.media[0]).toMatchObject({ to: 'G1234567890', recipientType: 'group' });
  });

  it('answers 400 when the parameters do not match the placeholders, and sends a header parameter when the header has one', async () => {
    const { world, accountId, main, send, messaging, contact, balance } = await inbox();
    const waId = '13360000001';
    await contact(waId, 'closed');
    await storeTemplate(world, accountId, main, 'shipping', [
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hi {{1}}, it ships {{2}}.' },
    ]);
    const before = await balance();

    const tooFew = await send(waId, { template: { name: 'shipping', language: 'en_US', parameters: ['Maria'], headerParameters: ['#7'] } });
    expect(tooFew.status).toBe(400);
    expect(issuePaths(tooFew)).toEqual(['body.template.parameters']);
    const tooMany = await send(waId, { template: { name: 'shipping', language: 'en_US', parameters: ['Maria', 'today', 'extra'], headerParameters: ['#7'] } });
    expect(issuePaths(tooMany)).toEqual(['body.template.parameters']);
    const noHeader = await send(waId, { template: { name: 'shipping', language: 'en_US', parameters: ['Maria', 'today'] } });
    expect(issuePaths(noHeader)).toEqual(['body.template.headerParameters']);
    expect(messaging.sends).toHaveLength(0);
    expect(await balance()).toBe(before);

    const ok = await send(waId, { template: { name: 'shipping', language: 'en_US', parameters: ['Maria', 'today'], headerParameters: ['#7'] } });
    expect(ok.status).toBe(202);
    expect(messaging.sends[0]!.template.components).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: '#7' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Maria' }, { type: 'text', text: 'today' }] },
    ]);
    expect(await balance()).toBe(before - PRICE);
  });
});
