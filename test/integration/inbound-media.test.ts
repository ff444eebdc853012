/**
 * Media in on DynamoDB Local: the media consumer (its Lambda app with SQS
 * batches) against the Graph API simulator's media endpoints and the local
 * folder store, beside the inbox consumer. The file is stored byte for byte,
 * a SHA-256 mismatch is refused and reported (once, never retried), a
 * transient Graph failure fails the record so it is retried, a redelivery
 * changes nothing, and the message shows (`pending`) before its file, in
 * either order of the two consumers.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { GraphMediaSource } from '../../functions/adapters/graph/graph-media.js';
import { LocalMediaStore } from '../../functions/adapters/local/media-store.js';
import { systemClock } from '../../functions/commons/ids.js';
import { sha256Matches } from '../../functions/core/inbound-media.js';
import { inboundMediaKey } from '../../functions/core/media-ports.js';
import { messageViewsWithMedia } from '../../functions/core/media-urls.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-simulator.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, envelope, sqsBatch } from '../support/inbox.js';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const TOKEN = 'media-test-token';
const context = {} as Context;

let table: TestTable;
let repo: DynamoInboxRepository;
let graph: GraphSimulator;
let store: LocalMediaStore;
let dir: string;
let files: Server;
let filesUrl = '';
let inbox: Handler;
let media: Handler;
let accountSeq = 0;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  table = await createTestTable('inbound-media');
  repo = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
  graph = await startGraphSimulator({ appSecret: 'unused', accessToken: TOKEN, lookupNumber: async () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'inbound-media-test-'));
  // The store's files served as the runtime serves them, so its URLs can be opened.
  files = createServer((req, res) => {
    void store.serve(req, res).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', () => resolve()));
  filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
  store = new LocalMediaStore({ dir, baseUrl: () => filesUrl, signingKey: 'test-signing-key' });
  const { makeInboxHandler } = await import('../../functions/inbox/app.js');
  const { createInboxConsumerDeps } = await import('../../functions/inbox/deps.js');
  const { makeMediaHandler } = await import('../../functions/media/app.js');
  const { createMediaConsumerDeps } = await import('../../functions/media/deps.js');
  inbox = makeInboxHandler(createInboxConsumerDeps(table.doc, table.tableName)) as Handler;
  const source = new GraphMediaSource({ baseUrl: graph.url, version: 'v23.0', accessToken: async () => TOKEN, sleep: async () => undefined });
  media = makeMediaHandler(createMediaConsumerDeps(table.doc, table.tableName, { source, store }));
});

afterAll(async () => {
  await graph?.stop();
  await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const newAccountId = () => `acc_media${Date.now().toString(36)}${++accountSeq}`;
const MARIA = '5511987650001';

/** A received image (or other media) message as the webhook publishes it. */
function mediaEvent(accountId: string, options: { mediaId: string; sha256?: string; wamid?: string; type?: string; extra?: Record<string, unknown> }) {
  const wamid = options.wamid ?? `wamid.MEDIA_${accountSeq}_${Math.random().toString(36).slice(2)}`;
  const type = options.type ?? 'image';
  const number = NUMBERS.vendas;
  return envelope(DETAIL_TYPES.messageReceived, {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefaultNumber: false,
    eventId: wamid,
    receivedAt: new Date().toISOString(),
    message: {
      from: MARIA,
      id: wamid,
      timestamp: String(Math.floor(Date.now() / 1000)),
      type,
      [type]: { id: options.mediaId, mime_type: 'image/jpeg', ...(options.sha256 ? { sha256: options.sha256 } : {}), caption: 'este modelo', ...options.extra },
    },
    contact: { profile: { name: 'Maria Souza' }, wa_id: MARIA },
  });
}

const ref = (accountId: string) => ({ accountId, whatsappPhno: NUMBERS.vendas.whatsapp_phno, contactKey: MARIA });
const wamidOf = (event: ReturnType<typeof mediaEvent>) => (event.detail.message as { id: string }).id;

async function listed(accountId: string) {
  const page = await repo.listMessages(ref(accountId), { limit: 50 });
  return messageViewsWithMedia({ media: store, clock: systemClock }, page.items);
}

function photo(size = 48_000): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 256;
  bytes.write('\xff\xd8\xff\xe0JFIF', 0, 'latin1');
  return bytes;
}

describe('media consumer', () => {
  it('stores the file byte for byte and the message shows it with a URL that opens it', async () => {
    const accountId = newAccountId();
    const bytes = photo();
    const registered = graph.media.register(bytes, 'image/jpeg');
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });

    expect((await inbox(sqsBatch([event]), context)).batchItemFailures).toEqual([]);
    expect((await media(sqsBatch([event]), context)).batchItemFailures).toEqual([]);

    const [message] = await listed(accountId);
    expect(message!.media).toMatchObject({ status: 'stored', mimeType: 'image/jpeg', caption: 'este modelo', sizeBytes: bytes.length, sha256: registered.sha256 && Buffer.from(registered.sha256, 'base64').toString('hex') });
    expect(message!.media!.url).toContain('/local/media/');
    const opened = await fetch(message!.media!.url!);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await opened.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await store.head(inboundMediaKey(accountId, NUMBERS.vendas.whatsapp_phno, wamidOf(event)))).toEqual({ sizeBytes: bytes.length, contentType: 'image/jpeg' });
  });

  it('shows the message at once, pending, before its file is fetched', async () => {
    const accountId = newAccountId();
    const registered = graph.media.register(photo(1000), 'image/jpeg');
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });
    await inbox(sqsBatch([event]), context);
    const [message] = await listed(accountId);
    expect(message).toMatchObject({ type: 'image', text: 'este modelo', media: { status: 'pending', mimeType: 'image/jpeg', caption: 'este modelo' } });
    expect(message!.media!.url).toBeUndefined();
  });

  it('stores the file when the media consumer runs before the inbox consumer (the message appears once, complete)', async () => {
    const accountId = newAccountId();
    const bytes = photo(2048);
    const registered = graph.media.register(bytes, 'image/jpeg');
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });
    expect((await media(sqsBatch([event]), context)).batchItemFailures).toEqual([]);
    // Only a placeholder so far: not listed.
    expect(await listed(accountId)).toEqual([]);
    expect((await inbox(sqsBatch([event]), context)).batchItemFailures).toEqual([]);
    const messages = await listed(accountId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ type: 'image', direction: 'in', media: { status: 'stored', sizeBytes: 2048 } });
    expect((await repo.getConversation(ref(accountId)))?.unreadCount).toBe(1);
  });

  it('refuses a file whose bytes do not hash to Meta\'s sha256: nothing stored, the failure shown, the record not retried', async () => {
    const accountId = newAccountId();
    const registered = graph.media.register(photo(4096), 'image/jpeg', { corrupt: true });
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });
    await inbox(sqsBatch([event]), context);
    expect((await media(sqsBatch([event]), context)).batchItemFailures).toEqual([]);

    const [message] = await listed(accountId);
    expect(message!.media).toMatchObject({ status: 'failed', error: { code: 'SHA256_MISMATCH' } });
    expect(message!.media!.url).toBeUndefined();
    expect(await store.head(inboundMediaKey(accountId, NUMBERS.vendas.whatsapp_phno, wamidOf(event)))).toBeUndefined();
    expect((await readdir(dir)).some((name) => name.includes(encodeURIComponent(wamidOf(event))))).toBe(false);
  });

  it('refuses a file that matches the media object but not the sha256 the webhook message carried', async () => {
    const accountId = newAccountId();
    const registered = graph.media.register(photo(512), 'image/jpeg');
    const other = graph.media.register(photo(513), 'image/jpeg');
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: other.sha256 });
    await inbox(sqsBatch([event]), context);
    await media(sqsBatch([event]), context);
    const [message] = await listed(accountId);
    expect(message!.media).toMatchObject({ status: 'failed', error: { code: 'SHA256_MISMATCH' } });
    expect(message!.media!.error!.message).toContain('webhook message');
  });

  it('fails the record on a transient Graph failure (retried), and stores the file on the retry', async () => {
    const accountId = newAccountId();
    const bytes = photo(3000);
    // The client tries 3 times a delivery: the first delivery meets 3 failures, the retry 2 more and then the file.
    const registered = graph.media.register(bytes, 'image/jpeg', { failures: 5 });
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });
    await inbox(sqsBatch([event]), context);

    const first = await media(sqsBatch([event]), context);
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await listed(accountId))[0]!.media).toMatchObject({ status: 'pending' });

    const retried = await media(sqsBatch([event]), context);
    expect(retried.batchItemFailures).toEqual([]);
    expect((await listed(accountId))[0]!.media).toMatchObject({ status: 'stored', sizeBytes: 3000 });
    expect(graph.media.get(registered.id)!.described).toBe(6);
  });

  it('is idempotent under redelivery, concurrent ones included: same key, same bytes, media recorded once', async () => {
    const accountId = newAccountId();
    const bytes = photo(8000);
    const registered = graph.media.register(bytes, 'image/jpeg');
    const event = mediaEvent(accountId, { mediaId: registered.id, sha256: registered.sha256 });
    await inbox(sqsBatch([event]), context);
    const outcomes = await Promise.all([media(sqsBatch([event]), context), media(sqsBatch([event]), context), media(sqsBatch([event, event]), context)]);
    expect(outcomes.flatMap((outcome) => outcome.batchItemFailures)).toEqual([]);
    const stored = (await repo.listMessages(ref(accountId), { limit: 10 })).items[0]!.media!;
    await media(sqsBatch([event]), context);
    const again = (await repo.listMessages(ref(accountId), { limit: 10 })).items[0]!.media!;
    expect(again).toEqual(stored);
    expect(again).toMatchObject({ status: 'stored', sizeBytes: 8000, key: inboundMediaKey(accountId, NUMBERS.vendas.whatsapp_phno, wamidOf(event)) });
    const opened = await fetch((await listed(accountId))[0]!.media!.url!);
    expect(Buffer.from(await opened.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await listed(accountId)).toHaveLength(1);
  });

  it('records a media id Meta refuses as failed (MEDIA_UNAVAILABLE), once', async () => {
    const accountId = newAccountId();
    const event = mediaEvent(accountId, { mediaId: '999000111222333' });
    await inbox(sqsBatch([event]), context);
    expect((await media(sqsBatch([event]), context)).batchItemFailures).toEqual([]);
    expect((await listed(accountId))[0]!.media).toMatchObject({ status: 'failed', error: { code: 'MEDIA_UNAVAILABLE' } });
  });

  it('keeps a voice note (audio with voice) and a document under its file name', async () => {
    const accountId = newAccountId();
    const voice = graph.media.register(Buffer.from('OggS voice bytes'), 'audio/ogg; codecs=opus');
    const pdf = graph.media.register(Buffer.from('%PDF-1.7 a catalog'), 'application/pdf');
    const voiceEvent = mediaEvent(accountId, { type: 'audio', mediaId: voice.id, sha256: voice.sha256, extra: { voice: true, mime_type: 'audio/ogg; codecs=opus', caption: undefined } });
    const pdfEvent = mediaEvent(accountId, { type: 'document', mediaId: pdf.id, sha256: pdf.sha256, extra: { filename: 'catálogo 2026.pdf', mime_type: 'application/pdf', caption: undefined } });
    await inbox(sqsBatch([voiceEvent, pdfEvent]), context);
    expect((await media(sqsBatch([voiceEvent, pdfEvent]), context)).batchItemFailures).toEqual([]);
    const messages = await listed(accountId);
    const audio = messages.find((m) => m.type === 'audio')!;
    const document = messages.find((m) => m.type === 'document')!;
    expect(audio.media).toMatchObject({ status: 'stored', voice: true, mimeType: 'audio/ogg; codecs=opus' });
    expect(document.media).toMatchObject({ status: 'stored', fileName: 'catálogo 2026.pdf', mimeType: 'application/pdf' });
    const opened = await fetch(document.media!.url!);
    expect(opened.headers.get('content-disposition')).toContain("filename*=UTF-8''cat%C3%A1logo%202026.pdf");
    expect(await opened.text()).toBe('%PDF-1.7 a catalog');
  });
});

describe('sha256 as Meta writes it', () => {
  const digest = Buffer.from('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'hex');
  it('accepts hex and base64 of the same digest, and refuses anything else', () => {
    expect(sha256Matches('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', digest)).toBe(true);
    expect(sha256Matches('9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08', digest)).toBe(true);
    expect(sha256Matches(digest.toString('base64'), digest)).toBe(true);
    expect(sha256Matches(digest.toString('base64url'), digest)).toBe(true);
    expect(sha256Matches('q5JAzBphW7m1k6Lr3o9gCOlgXiXgD5oA4bV7Yk2cS7E=', digest)).toBe(false);
    expect(sha256Matches('not a hash', digest)).toBe(false);
  });
});
