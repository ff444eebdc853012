/**
 * `npm run replay`'s rewriting and bookkeeping (scripts/replay-deliveries.ts):
 * only the routing ids change, byte for byte everything else stays; folders
 * are walked without the corpus manifest; answers add up.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deliveryFiles, filesNaming, progressBar, rewriteRoutingIds, summarize } from '../../scripts/replay-deliveries.js';

const TARGET = { phoneNumberId: '110000000009901', wabaId: '210000000009901', whatsappPhno: '15550009901' };

describe('rewriteRoutingIds', () => {
  it('replaces the WABA, phone_number_id and display number, and nothing else, keeping escapes and spacing', () => {
    const raw =
      '{"object":"whatsapp_business_account","entry":[{"id":"WHATSAPP_BUSINESS_ACCOUNT_ID","changes":[{"field":"messages","value":{\n' +
      '  "metadata" : { "display_phone_number": "PHONE_NUMBER", "phone_number_id":"PHONE_NUMBER_ID" },\n' +
      '  "contacts":[{"profile":{"name":"Jos\\u00e9"},"wa_id":"5511987650001"}],\n' +
      '  "messages":[{"from":"5511987650001","id":"wamid.X","timestamp":"1764230400","type":"text","text":{"body":"ol\\u00e1 \\"id\\": \\"x\\""}}]}}]}]}';
    const { bytes, changed } = rewriteRoutingIds(Buffer.from(raw, 'utf8'), TARGET);
    expect(changed).toBe(3);
    expect(bytes.toString('utf8')).toBe(
      raw.replace('"WHATSAPP_BUSINESS_ACCOUNT_ID"', '"210000000009901"').replace('"PHONE_NUMBER"', '"15550009901"').replace('"PHONE_NUMBER_ID"', '"110000000009901"'),
    );
  });

  it('names the number in WABA-level changes (quality and account updates) and in every entry and change', () => {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        { id: 1, time: 1, changes: [{ field: 'phone_number_quality_update', value: { display_phone_number: '16505551111', event: 'FLAGGED' } }] },
        { id: '2', changes: [{ field: 'account_update', value: { phone_number: '16505552222', event: 'ACCOUNT_UPDATE', id: 'keep' } }, { field: 'messages', value: { metadata: { phone_number_id: 3 } } }] },
      ],
    });
    const rewritten = JSON.parse(rewriteRoutingIds(Buffer.from(raw), TARGET).bytes.toString('utf8'));
    expect(rewritten.entry.map((e: { id: unknown }) => e.id)).toEqual(['210000000009901', '210000000009901']);
    expect(rewritten.entry[0].changes[0].value.display_phone_number).toBe('15550009901');
    expect(rewritten.entry[1].changes[0].value).toEqual({ phone_number: '15550009901', event: 'ACCOUNT_UPDATE', id: 'keep' });
    expect(rewritten.entry[1].changes[1].value.metadata.phone_number_id).toBe('110000000009901');
    expect(rewritten.entry[0].time).toBe(1);
  });

  it('keeps bytes that are not UTF-8 as they were', () => {
    const raw = Buffer.from('{"entry":[{"id":"old","changes":[{"value":{"metadata":{"phone_number_id":"old"},"messages":[{"text":{"body":"café"}}]}}]}]}', 'latin1');
    const { bytes } = rewriteRoutingIds(raw, TARGET);
    expect(bytes.includes(Buffer.from('caf\xe9', 'latin1'))).toBe(true);
    expect(bytes.toString('latin1')).toBe(raw.toString('latin1').replace('"id":"old"', '"id":"210000000009901"').replace('"phone_number_id":"old"', '"phone_number_id":"110000000009901"'));
  });

  it('leaves an id as it is when the target does not name it, and counts what really changed', () => {
    const raw = Buffer.from('{"entry":[{"id":"210000000009901","changes":[{"value":{"metadata":{"display_phone_number":"1","phone_number_id":"p"}}}]}]}');
    const { bytes, changed } = rewriteRoutingIds(raw, { phoneNumberId: '110000000009901', wabaId: '210000000009901' });
    expect(changed).toBe(1);
    expect(bytes.toString()).toBe('{"entry":[{"id":"210000000009901","changes":[{"value":{"metadata":{"display_phone_number":"1","phone_number_id":"110000000009901"}}}]}]}');
  });

  it('throws on bytes that are not JSON', () => {
    expect(() => rewriteRoutingIds(Buffer.from('{"entry": ['), TARGET)).toThrow(SyntaxError);
  });
});

describe('deliveryFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('walks a folder recursively in name order, leaving out MANIFEST.json and other files; a file is itself', () => {
    mkdirSync(join(dir, 'b'));
    for (const name of ['c.json', 'MANIFEST.json', 'notes.txt', 'a.json', 'b/inner.json', 'b/MANIFEST.json']) writeFileSync(join(dir, name), '{}');
    expect(deliveryFiles(dir)).toEqual([join(dir, 'a.json'), join(dir, 'b', 'inner.json'), join(dir, 'c.json')]);
    expect(deliveryFiles(join(dir, 'c.json'))).toEqual([join(dir, 'c.json')]);
  });
});

describe('summarize', () => {
  it('counts answers by status, adds up the 200 answers, lists the others and the files with skipped items', () => {
    const summary = summarize([
      { file: 'a', status: 200, body: '{"published":2,"unrouted":0,"invalid":0}' },
      { file: 'b', status: 200, body: '{"published":1,"unrouted":1,"invalid":2}' },
      { file: 'c', status: 400, body: '{"error":{}}' },
      { file: 'd', status: 0, body: 'ECONNREFUSED' },
    ]);
    expect(summary).toEqual({
      files: 4,
      byStatus: { '200': 2, '400': 1, '0': 1 },
      totals: { published: 3, unrouted: 1, invalid: 2 },
      failed: [expect.objectContaining({ file: 'c' }), expect.objectContaining({ file: 'd' })],
      skipped: [{ file: 'b', invalid: 2, unrouted: 1 }],
    });
  });
});

describe('filesNaming and progressBar', () => {
  it('finds the file naming a dead letter’s wamid; derived ids name none', () => {
    const files = [
      { file: 'a', bytes: Buffer.from('{"id":"wamid.A"}') },
      { file: 'b', bytes: Buffer.from('{"id":"wamid.AB"}') },
    ];
    expect(filesNaming('wamid.A:failed', files)).toEqual(['a']);
    expect(filesNaming('wamid.AB', files)).toEqual(['b']);
    expect(filesNaming('upd:account_update:-:1:abc:15550009901', files)).toEqual([]);
  });

  it('draws done out of total', () => {
    expect(progressBar(42, 123, 10)).toBe('[###.......] 42/123');
    expect(progressBar(0, 0, 4)).toBe('[####] 0/0');
  });
});
