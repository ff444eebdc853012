/**
 * The two `MediaStore` adapters' URL rules: S3 presigns a GET of 5 minutes
 * (naming the download) and a PUT of 10 minutes signed over Content-Type and
 * Content-Length; the local store (served by the runtime) refuses what S3
 * would: an expired or altered URL, an upload of another type or size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalMediaStore } from '../../functions/adapters/local/media-store.js';
import { S3MediaStore } from '../../functions/adapters/s3/media-store.js';

describe('S3MediaStore', () => {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
  const store = new S3MediaStore({ bucketName: 'media-bucket', client, clock: { now: () => new Date('2026-12-02T10:00:00Z') } });

  it('presigns a GET of 5 minutes that downloads under the file name', async () => {
    const url = new URL(await store.urlFor('media/acc_1/15550001001/wamid.X', { fileName: 'catálogo.pdf' }));
    expect(url.hostname).toContain('media-bucket');
    expect(url.pathname).toBe('/media/acc_1/15550001001/wamid.X');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="cat_logo.pdf"; filename*=UTF-8''cat%C3%A1logo.pdf`);
  });

  it('presigns a PUT of 10 minutes bound to the declared type and size', async () => {
    const target = await store.uploadTargetFor('uploads/acc_1/upl_1', 'application/pdf', 12345);
    const url = new URL(target.url);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(target).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'application/pdf', 'Content-Length': '12345' }, expiresAt: '2026-12-02T10:10:00.000Z' });
  });

  it('heads an object, and answers undefined for a missing one', async () => {
    const s3 = mockClient(client);
    s3.on(HeadObjectCommand, { Key: 'media/a' }).resolves({ ContentLength: 42, ContentType: 'image/jpeg' });
    s3.on(HeadObjectCommand, { Key: 'media/b' }).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } }));
    expect(await store.head('media/a')).toEqual({ sizeBytes: 42, contentType: 'image/jpeg' });
    expect(await store.head('media/b')).toBeUndefined();
    s3.restore();
  });
});

describe('LocalMediaStore served over HTTP', () => {
  let dir: string;
  let server: Server;
  let base = '';
  let now = new Date('2026-12-02T10:00:00Z');
  let store: LocalMediaStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-media-store-'));
    store = new LocalMediaStore({ dir, baseUrl: () => base, signingKey: 'k', clock: { now: () => now } });
    server = createServer((req, res) => void store.serve(req, res).then((served) => (served ? undefined : res.writeHead(404).end())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const put = (url: string, body: Uint8Array, headers: Record<string, string>) => fetch(url, { method: 'PUT', body, headers });

  it('takes an upload of exactly the signed type and size, then serves it', async () => {
    const bytes = new TextEncoder().encode('%PDF-1.7 hello');
    const target = await store.uploadTargetFor('uploads/acc_1/upl_ok', 'application/pdf', bytes.length);
    expect((await put(target.url, bytes, target.headers)).status).toBe(200);
    expect(await store.head('uploads/acc_1/upl_ok')).toEqual({ sizeBytes: bytes.length, contentType: 'application/pdf' });
    const got = await fetch(await store.urlFor('uploads/acc_1/upl_ok'));
    expect(await got.text()).toBe('%PDF-1.7 hello');
  });

  it('refuses another type (403), another size (403) and an altered signature (403)', async () => {
    const target = await store.uploadTargetFor('uploads/acc_1/upl_bad', 'image/png', 10);
    expect((await put(target.url, new Uint8Array(10), { 'Content-Type': 'image/jpeg' })).status).toBe(403);
    expect((await put(target.url, new Uint8Array(11), { 'Content-Type': 'image/png' })).status).toBe(403);
    const tampered = new URL(target.url);
    tampered.searchParams.set('size', '20');
    expect((await put(tampered.toString(), new Uint8Array(20), { 'Content-Type': 'image/png' })).status).toBe(403);
    expect(await store.head('uploads/acc_1/upl_bad')).toBeUndefined();
  });

  it('refuses a GET or a PUT past its expiry (403), and a GET of a missing key (404)', async () => {
    await store.put('media/acc_1/x', new Uint8Array([1, 2, 3]), 'image/jpeg');
    const get = await store.urlFor('media/acc_1/x');
    const target = await store.uploadTargetFor('uploads/acc_1/late', 'image/png', 3);
    now = new Date(now.getTime() + 11 * 60 * 1000);
    try {
      const expired = await fetch(get);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('Request has expired');
      expect((await put(target.url, new Uint8Array(3), target.headers)).status).toBe(403);
      expect((await fetch(await store.urlFor('media/acc_1/missing'))).status).toBe(404);
    } finally {
      now = new Date('2026-12-02T10:00:00Z');
    }
  });
});
