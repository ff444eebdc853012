/**
 * `functions/core/channel-status.ts`: Meta's quality and account updates as
 * the number's `status`, `messagingLimitTier` and `qualityRating`.
 */
import { describe, expect, it } from 'vitest';
import type { NumberUpdated } from '../../schemas/events/number-updated.js';
import { channelStatusChange, messagingLimitTier } from '../../functions/core/channel-status.js';

const update = (field: string, value: Record<string, unknown>, occurredAt: string | null = '2026-11-27T10:00:00.000Z'): NumberUpdated => ({
  accountId: 'acc_1',
  whatsapp_phno: '15550001002',
  phoneNumberId: '110000000000002',
  wabaId: '210000000000001',
  isDefaultNumber: false,
  eventId: 'upd:x',
  receivedAt: '2026-11-27T10:00:05.000Z',
  ...(occurredAt ? { occurredAt } : {}),
  field,
  update: value,
});

describe('messagingLimitTier', () => {
  it.each([
    ['TIER_250', 'TIER_250'],
    ['TIER_1K', 'TIER_1K'],
    ['TIER_2K', 'TIER_2K'],
    ['TIER_10K', 'TIER_10K'],
    ['TIER_100K', 'TIER_100K'],
    ['TIER_UNLIMITED', 'TIER_UNLIMITED'],
    ['UNLIMITED', 'TIER_UNLIMITED'],
    ['TIER_NOT_SET', 'TIER_NOT_SET'],
    ['10K', 'TIER_10K'],
    ['TIER_2000', 'TIER_2K'],
    ['tier_10k', 'TIER_10K'],
    [250, 'TIER_250'],
    [1000, 'TIER_1K'],
    [2000, 'TIER_2K'],
    [10000, 'TIER_10K'],
    [100000, 'TIER_100K'],
    ['50', 'TIER_50'],
  ])('reads %s as %s', (input, tier) => {
    expect(messagingLimitTier(input)).toBe(tier);
  });

  it.each([['HIGH'], [''], [-5], [2.5], [undefined], [{}]])('is undefined for %s', (input) => {
    expect(messagingLimitTier(input)).toBeUndefined();
  });
});

describe('channelStatusChange', () => {
  it('takes the tier of an upgrade from current_limit, timed by Meta', () => {
    expect(channelStatusChange(update('phone_number_quality_update', { display_phone_number: '15550001002', event: 'UPGRADE', current_limit: 'TIER_10K' }))).toEqual({
      accountId: 'acc_1',
      whatsapp_phno: '15550001002',
      at: '2026-11-27T10:00:00.000Z',
      messagingLimitTier: 'TIER_10K',
      lastChannelEvent: 'phone_number_quality_update:UPGRADE',
    });
  });

  it('prefers the portfolio limit over the retiring current_limit', () => {
    const change = channelStatusChange(update('phone_number_quality_update', { event: 'UPGRADE', current_limit: 'TIER_1K', max_daily_conversations_per_business: 'TIER_2K' }));
    expect(change?.messagingLimitTier).toBe('TIER_2K');
  });

  it('reads the older numeric max_daily_conversation_per_phone_number', () => {
    const change = channelStatusChange(update('phone_number_quality_update', { event: 'DOWNGRADE', max_daily_conversation_per_phone_number: 1000 }));
    expect(change).toMatchObject({ messagingLimitTier: 'TIER_1K', status: 'CONNECTED' });
  });

  it('flags the number and its quality on FLAGGED', () => {
    expect(channelStatusChange(update('phone_number_quality_update', { event: 'FLAGGED' }))).toMatchObject({ status: 'FLAGGED', qualityRating: 'RED' });
  });

  it('restores the number on UNFLAGGED', () => {
    expect(channelStatusChange(update('phone_number_quality_update', { event: 'UNFLAGGED' }))).toMatchObject({ status: 'CONNECTED', qualityRating: 'GREEN' });
  });

  it.each([
    [{ event: 'ACCOUNT_RESTRICTION' }, 'RESTRICTED'],
    [{ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE' } }, 'BANNED'],
    [{ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'REINSTATE' } }, 'CONNECTED'],
    [{ event: 'ACCOUNT_OFFBOARDED' }, 'DISCONNECTED'],
    [{ event: 'ACCOUNT_RECONNECTED' }, 'CONNECTED'],
    [{ event: 'ACCOUNT_DELETED' }, 'DELETED'],
  ])('maps the account update %j to status %s', (value, status) => {
    expect(channelStatusChange(update('account_update', value))?.status).toBe(status);
  });

  it('records an account update that changes no status without inventing one', () => {
    const change = channelStatusChange(update('account_update', { phone_number: '15550001002', event: 'ACCOUNT_UPDATE' }));
    expect(change).toEqual({ accountId: 'acc_1', whatsapp_phno: '15550001002', at: '2026-11-27T10:00:00.000Z', lastChannelEvent: 'account_update:ACCOUNT_UPDATE' });
  });

  it('falls back to the time of receipt when Meta gave no time', () => {
    expect(channelStatusChange(update('phone_number_quality_update', { event: 'FLAGGED' }, null))?.at).toBe('2026-11-27T10:00:05.000Z');
  });

  it('ignores fields that are not about channel status', () => {
    expect(channelStatusChange(update('message_template_quality_update', { event: 'x' }))).toBeUndefined();
  });
});
