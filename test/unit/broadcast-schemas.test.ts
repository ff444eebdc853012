/** Broadcast bodies and bus records: recipients normalised one way, records parsed by detail type. */
import { describe, expect, it } from 'vitest';
import { broadcastIdFor } from '../../functions/core/broadcasts.js';
import { parseBroadcastRecord } from '../../functions/broadcast/events.js';
import { MalformedBroadcastRecord } from '../../functions/core/backend-failures.js';
import { createBroadcastBody } from '../../schemas/broadcasts.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';

const body = (recipients: unknown) => createBroadcastBody.safeParse({ whatsapp_phno: '+1 555 000 1001', template: { name: 'promo', language: 'en_US' }, recipients });

describe('createBroadcastBody', () => {
  it('normalises the sending number and the recipients', () => {
    const parsed = body(['+52 1 55 1234 5678', '+1 (650) 555-0002']);
    expect(parsed.success && parsed.data).toMatchObject({ whatsapp_phno: '15550001001', recipients: ['525512345678', '16505550002'] });
  });

  it('de-duplicates recipients that are one person, keeping the first order', () => {
    const parsed = body(['5491123456789', '16505550002', '541123456789']);
    expect(parsed.success && parsed.data.recipients).toEqual(['541123456789', '16505550002']);
  });

  it('refuses more than 100,000 recipients', () => {
    expect(body(Array.from({ length: 100_001 }, (_, i) => String(12_020_000_000 + i))).success).toBe(false);
  });

  it('refuses a recipient with letters, naming its index', () => {
    const parsed = body(['16505550002', '1650555000x']);
    expect(parsed.success).toBe(false);
    expect(!parsed.success && parsed.error.issues[0]!.path).toEqual(['recipients', 1]);
  });
});

describe('broadcastIdFor', () => {
  it('gives the same id for the same account and request key', () => {
    expect(broadcastIdFor('acc_1', 'api:k')).toBe(broadcastIdFor('acc_1', 'api:k'));
  });

  it('gives another id to another account with the same key', () => {
    expect(broadcastIdFor('acc_1', 'api:k')).not.toBe(broadcastIdFor('acc_2', 'api:k'));
  });
});

describe('parseBroadcastRecord', () => {
  const record = (detailType: string, detail: unknown) => JSON.stringify({ source: SOURCES.webhook, 'detail-type': detailType, detail });
  const context = { accountId: 'acc_1', whatsapp_phno: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001', isDefaultNumber: true, receivedAt: '2030-01-01T00:00:00.000Z' };

  it('reads a broadcast status', () => {
    const event = parseBroadcastRecord(record(DETAIL_TYPES.messageStatusUpdated, { ...context, eventId: 'w:read', broadcastId: 'brd_0001', status: { id: 'w', status: 'read', timestamp: '1' } }));
    expect(event).toMatchObject({ kind: 'status', detail: { broadcastId: 'brd_0001' } });
  });

  it('reads a Broadcast Requested', () => {
    const detail = { accountId: 'acc_1', whatsapp_phno: '15550001001', eventId: 'brq:brd_1', broadcastId: 'brd_1', chunkCount: 2 };
    expect(parseBroadcastRecord(JSON.stringify({ source: SOURCES.api, 'detail-type': DETAIL_TYPES.broadcastRequested, detail }))).toEqual({ kind: 'requested', detail });
  });

  it('answers ignored for a detail type it does not handle', () => {
    expect(parseBroadcastRecord(record('Something Else', {}))).toEqual({ kind: 'ignored', detailType: 'Something Else' });
  });

  it('throws on a body that is not JSON', () => {
    expect(() => parseBroadcastRecord('{')).toThrow(MalformedBroadcastRecord);
  });

  it('throws on a detail that breaks its contract', () => {
    expect(() => parseBroadcastRecord(record(DETAIL_TYPES.messageStatusUpdated, { accountId: 'acc_1' }))).toThrow(MalformedBroadcastRecord);
  });
});
