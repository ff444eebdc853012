/** The item definitions and the update builder, offline: the request shapes they make, no table. */
import { describe, expect, it } from 'vitest';
import { startKeyFor } from '../../functions/adapters/dynamo/cursor.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { ifNotExists, increment, updateExpression } from '../../functions/adapters/dynamo/update-expression.js';
import { ValidationFailed } from '../../functions/core/errors.js';

const cursorOf = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('entities', () => {
  it('builds a key from its parts and parses it back', () => {
    const key = entities.conversation.key({ accountId: 'acc_1', whatsappPhno: '15550001001', contactKey: '5511987650001' });
    expect(key).toEqual({ pk: 'A#acc_1', sk: 'CONV#15550001001#5511987650001' });
    expect(entities.conversation.keyParts(key)).toEqual({ accountId: 'acc_1', whatsappPhno: '15550001001', contactKey: '5511987650001' });
  });

  it('cuts a begins_with prefix at the first part not given', () => {
    expect(entities.contact.skPrefix()).toBe('CONTACT#');
    expect(entities.contact.skPrefix({ whatsappPhno: '15550001001' })).toBe('CONTACT#15550001001#');
  });

  it('keeps a # inside the last part (an idempotency key) when parsing', () => {
    const key = entities.ledgerEntry.key({ accountId: 'acc_1', idempotencyKey: 'api:a#b' });
    expect(entities.ledgerEntry.keyParts(key)).toEqual({ accountId: 'acc_1', idempotencyKey: 'api:a#b' });
  });

  it('pads chunk numbers so chunks sort in order', () => {
    expect(entities.broadcastChunk.key({ broadcastId: 'brd_1', chunk: 7 }).sk).toBe('CHUNK#00007');
  });

  it('writes an optional index only when its parts are known', () => {
    const base = { accountId: 'acc_1', idempotencyKey: 'k', resource: 'credits', at: '2030-01-01T00:00:00.000Z' } as const;
    const entry = { idempotencyKey: 'k', at: base.at, resource: 'credits' as const, amount: 1, reason: 'r', fingerprint: 'f' };
    const withoutNumber = entities.ledgerEntry.item(base, entry);
    expect(withoutNumber).toMatchObject({ type: 'ledger', gsi1pk: 'A#acc_1#LEDGER#credits', gsi1sk: '2030-01-01T00:00:00.000Z#k' });
    expect(withoutNumber.gsi2pk).toBeUndefined();
    expect(entities.ledgerEntry.item({ ...base, whatsappPhno: '15550001001' }, entry).gsi2pk).toBe('A#acc_1#LEDGER#credits#15550001001');
  });

  it('tells its own keys from another entity\'s', () => {
    const team = entities.team.key({ accountId: 'acc_1', teamId: 'team_1' });
    expect(entities.team.owns(team)).toBe(true);
    expect(entities.contact.owns(team)).toBe(false);
  });

  it('reads attributes through the schema, with the defaults the writers rely on', () => {
    const stored = entities.number.parse({ pk: 'x', sk: 'y', accountId: 'acc_1', whatsapp_phno: '1', name: 'n', phoneNumberId: 'p', wabaId: 'w', connectedAt: 't' });
    expect(stored).toEqual({
      accountId: 'acc_1',
      whatsapp_phno: '1',
      name: 'n',
      phoneNumberId: 'p',
      wabaId: 'w',
      isDefault: false,
      status: 'CONNECTED',
      messagingLimitTier: null,
      qualityRating: null,
      creditCapMicros: null,
      connectedAt: 't',
      updatedAt: 't',
    });
  });
});

describe('updateExpression', () => {
  it('aliases every name and value, leaves undefined out and merges the condition', () => {
    expect(
      updateExpression(
        { set: { name: 'a', waId: undefined, firstSeenAt: ifNotExists('t'), unreadCount: increment(1) }, add: { sent: 1, read: 0 } },
        { expression: 'lastSeenAt < :seen', values: { ':seen': 't' } },
      ),
    ).toEqual({
      UpdateExpression: 'SET #u0 = :u0, #u1 = if_not_exists(#u1, :u1), #u2 = if_not_exists(#u2, :u2) + :u3 ADD #u3 :u4',
      ConditionExpression: 'lastSeenAt < :seen',
      ExpressionAttributeNames: { '#u0': 'name', '#u1': 'firstSeenAt', '#u2': 'unreadCount', '#u3': 'sent' },
      ExpressionAttributeValues: { ':u0': 'a', ':u1': 't', ':u2': 0, ':u3': 1, ':u4': 1, ':seen': 't' },
    });
  });

  it('refuses a condition alias the builder uses', () => {
    expect(() => updateExpression({ set: { a: 1 } }, { expression: 'x = :u0', values: { ':u0': 1 } })).toThrow(/collides/);
  });
});

describe('startKeyFor', () => {
  const { gsi1 } = entities.broadcast.indexes;
  const query = { entity: entities.broadcast, index: gsi1, partition: gsi1.partition({ accountId: 'acc_1' }) };
  const lastKey = { ...entities.broadcast.key({ accountId: 'acc_1', broadcastId: 'brd_1' }), ...gsi1.keys({ accountId: 'acc_1', createdAt: 't', broadcastId: 'brd_1' }) };

  it('takes back the last key of the same listing', () => {
    expect(startKeyFor(cursorOf(lastKey), query)).toEqual(lastKey);
  });

  it('refuses the same key moved to another account', () => {
    const moved = { ...lastKey, ...entities.broadcast.key({ accountId: 'acc_2', broadcastId: 'brd_1' }) };
    expect(() => startKeyFor(cursorOf(moved), query)).toThrow(ValidationFailed);
  });

  it('refuses a key with an attribute more or less', () => {
    expect(() => startKeyFor(cursorOf({ ...lastKey, extra: 'x' }), query)).toThrow(ValidationFailed);
    expect(() => startKeyFor(cursorOf(entities.broadcast.key({ accountId: 'acc_1', broadcastId: 'brd_1' })), query)).toThrow(ValidationFailed);
  });
});
