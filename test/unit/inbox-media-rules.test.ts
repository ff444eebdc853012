/**
 * The pure parts of media out and templates from the inbox: the kind a MIME
 * type is sent as, Meta's size limits at their edges, and how a template's
 * placeholders are counted and filled.
 */
import { describe, expect, it } from 'vitest';
import { placeholderCount, placeholdersOf, templateComponents } from '../../functions/core/inbox-templates.js';
import { mediaBody } from '../../functions/adapters/graph/graph-client.js';
import { replyBody } from '../../schemas/inbox.js';
import { createUploadBody, maxBytesOf, mediaKindOf } from '../../schemas/uploads.js';

describe("Meta's media rules", () => {
  it('gives each supported type exactly one kind, and none to the rest', () => {
    expect(mediaKindOf('image/jpeg')).toBe('image');
    expect(mediaKindOf('IMAGE/PNG')).toBe('image');
    expect(mediaKindOf('image/webp')).toBe('sticker');
    expect(mediaKindOf('video/mp4')).toBe('video');
    expect(mediaKindOf('audio/mp4')).toBe('audio');
    expect(mediaKindOf('audio/ogg; codecs=opus')).toBe('audio');
    expect(mediaKindOf('application/pdf')).toBe('document');
    expect(mediaKindOf('image/gif')).toBeUndefined();
    expect(mediaKindOf('application/zip')).toBeUndefined();
  });

  it('takes a file of exactly the largest size and refuses one byte more', () => {
    for (const [mimeType, kind, animated] of [
      ['image/png', 'image', false],
      ['video/3gpp', 'video', false],
      ['audio/amr', 'audio', false],
      ['text/plain', 'document', false],
      ['image/webp', 'sticker', false],
      ['image/webp', 'sticker', true],
    ] as const) {
      const max = maxBytesOf(kind, animated);
      expect(createUploadBody.safeParse({ fileName: 'f', mimeType, sizeBytes: max, animated }).success).toBe(true);
      const over = createUploadBody.safeParse({ fileName: 'f', mimeType, sizeBytes: max + 1, animated });
      expect(over.success).toBe(false);
      expect(over.error!.issues.map((i) => i.path.join('.'))).toEqual(['sizeBytes']);
    }
  });

  it('builds no caption into audio or stickers for the Graph API', () => {
    expect(mediaBody({ type: 'audio', link: 'https://x.test/a.ogg' })).toEqual({ link: 'https://x.test/a.ogg' });
    expect(mediaBody({ type: 'video', link: 'https://x.test/a.mp4', caption: 'Demo' })).toEqual({ link: 'https://x.test/a.mp4', caption: 'Demo' });
  });
});

describe('the reply body', () => {
  it('takes exactly one part, naming the second one given', () => {
    const paths = (body: unknown) => (replyBody.safeParse(body).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(paths({ text: 'hi' })).toEqual([]);
    expect(paths({ sticker: { link: 'https://x.test/s.webp' } })).toEqual([]);
    expect(paths({})).toEqual(['text']);
    expect(paths({ text: 'hi', replyMaterialId: 'rm_abcdef12' })).toEqual(['replyMaterialId']);
    expect(paths({ document: { link: 'https://x.test/a.pdf' }, template: { name: 'a', language: 'en' } })).toEqual(['template']);
    expect(paths({ image: { link: 'https://x.test/a.jpg', fileName: 'a.jpg' } })).toEqual(['image.fileName']);
    expect(paths({ sticker: { link: 'https://x.test/s.webp', caption: 'x' } })).toEqual(['sticker.caption']);
    expect(paths({ video: {} })).toEqual(['video.uploadId']);
  });
});

describe('template placeholders', () => {
  it('counts positional placeholders by the highest number, in the body and a text header', () => {
    expect(placeholderCount('Hi {{1}}, order {{2}} ships {{2}}')).toBe(2);
    expect(placeholderCount('No values')).toBe(0);
    expect(placeholderCount(undefined)).toBe(0);
    expect(
      placeholdersOf([
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
        { type: 'BODY', text: '{{1}} {{2}} {{3}}' },
        { type: 'BUTTONS', buttons: [] },
      ]),
    ).toEqual({ body: 3, header: 1 });
    expect(placeholdersOf([{ type: 'HEADER', format: 'IMAGE' }, { type: 'body', text: 'Hi {{1}}' }])).toEqual({ body: 1, header: 0 });
  });

  it("fills Meta's send components, leaving them out when there are no values", () => {
    expect(templateComponents({ name: 'a', language: 'en' })).toEqual([]);
    expect(templateComponents({ name: 'a', language: 'en', parameters: ['x'], headerParameters: ['h'] })).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: 'h' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'x' }] },
    ]);
  });
});
