/**
 * A number's channel status (docs/architecture.md): `status`, `messagingLimitTier`
 * and `qualityRating`, kept current from Meta's `phone_number_quality_update`
 * and `account_update` webhooks, and the portfolio's tier from
 * `business_capability_update`.
 *
 * Applied by the webhook itself, right after the delivery's events are on the
 * bus (not by a bus consumer): it is one conditional write per number, the
 * webhook already holds the route, and a failure answers 5xx so Meta
 * redelivers and the write is tried again. Each attribute is ordered by
 * Meta's entry time on its own: an older update arriving late does not undo a
 * newer one, and updates of different attributes never block each other.
 */
import type { NumberUpdated } from '../../schemas/events/number-updated.js';
import { WABA_FIELDS, accountUpdate, businessCapabilityUpdate, phoneNumberQualityUpdate } from '../../schemas/meta-webhook.js';

// ------------------------------------------------------------------- ports

export interface ChannelStatusChange {
  accountId: string;
  whatsapp_phno: string;
  /** When Meta says it happened (ISO); an attribute already set by a newer change keeps its value. */
  at: string;
  /** `CONNECTED`, `FLAGGED`, `RESTRICTED`, `BANNED`, `DISCONNECTED`, `DELETED` (Graph API's vocabulary). */
  status?: string;
  /**
   * `TIER_50`, `TIER_250`, `TIER_1K`, `TIER_2K`, `TIER_10K`, `TIER_100K`, `TIER_UNLIMITED`, `TIER_NOT_SET`.
   * Since October 2025 the tier is the business portfolio's: the writer keeps it on
   * the number and on the number's portfolio (docs/quotas.md, "Portfolio messaging limit").
   */
  messagingLimitTier?: string;
  /** `GREEN`, `YELLOW`, `RED`. */
  qualityRating?: string;
  /** `{field}:{event}`, e.g. `account_update:ACCOUNT_RESTRICTION`: the last thing Meta said about the number. */
  lastChannelEvent: string;
}

export type ChannelStatusOutcome = 'applied' | 'stale' | 'not-found';

export interface ChannelStatusWriter {
  /** Updates an existing number item only; never creates one. */
  apply(change: ChannelStatusChange): Promise<ChannelStatusOutcome>;
}

// ---------------------------------------------------------------- mapping

/** The channel-status change a number update means, or undefined when the field is not about channel status. */
export function channelStatusChange(event: NumberUpdated): ChannelStatusChange | undefined {
  const base = { accountId: event.accountId, whatsapp_phno: event.whatsapp_phno, at: event.occurredAt ?? event.receivedAt };
  if (event.field === WABA_FIELDS.quality) {
    const update = phoneNumberQualityUpdate.safeParse(event.update);
    if (!update.success) return undefined;
    const { event: what } = update.data;
    const tier = messagingLimitTier(update.data.max_daily_conversations_per_business ?? update.data.current_limit ?? update.data.max_daily_conversation_per_phone_number);
    return {
      ...base,
      ...QUALITY_EVENTS[what],
      ...(tier ? { messagingLimitTier: tier } : {}),
      lastChannelEvent: `${event.field}:${what}`,
    };
  }
  if (event.field === WABA_FIELDS.businessCapability) {
    const update = businessCapabilityUpdate.safeParse(event.update);
    if (!update.success) return undefined;
    const tier = messagingLimitTier(update.data.max_daily_conversations_per_business ?? update.data.max_daily_conversation_per_phone_number);
    if (!tier) return undefined;
    return { ...base, messagingLimitTier: tier, lastChannelEvent: `${event.field}:-` };
  }
  if (event.field === WABA_FIELDS.account) {
    const update = accountUpdate.safeParse(event.update);
    if (!update.success) return undefined;
    const { event: what } = update.data;
    const status = what === 'DISABLED_UPDATE' ? BAN_STATES[update.data.ban_info?.waba_ban_state ?? ''] : ACCOUNT_EVENTS[what];
    return { ...base, ...(status ? { status } : {}), lastChannelEvent: `${event.field}:${what}` };
  }
  return undefined;
}

/**
 * Meta's quality events. The webhook carries no rating itself: FLAGGED means
 * the rating fell to low (the number is flagged), UNFLAGGED that it recovered;
 * a DOWNGRADE ends a flag with a lower tier. Other events change the tier only.
 */
const QUALITY_EVENTS: Record<string, Pick<ChannelStatusChange, 'status' | 'qualityRating'>> = {
  FLAGGED: { status: 'FLAGGED', qualityRating: 'RED' },
  UNFLAGGED: { status: 'CONNECTED', qualityRating: 'GREEN' },
  DOWNGRADE: { status: 'CONNECTED' },
};

/** `account_update` events that change whether the number can be used; others are only recorded. */
const ACCOUNT_EVENTS: Record<string, string> = {
  ACCOUNT_RESTRICTION: 'RESTRICTED',
  ACCOUNT_DELETED: 'DELETED',
  ACCOUNT_OFFBOARDED: 'DISCONNECTED',
  ACCOUNT_RECONNECTED: 'CONNECTED',
  PARTNER_REMOVED: 'DISCONNECTED',
  PARTNER_APP_UNINSTALLED: 'DISCONNECTED',
};

const BAN_STATES: Record<string, string> = { DISABLE: 'BANNED', REINSTATE: 'CONNECTED' };

const TIER_BY_LIMIT: Record<number, string> = {
  50: 'TIER_50',
  250: 'TIER_250',
  1_000: 'TIER_1K',
  2_000: 'TIER_2K',
  10_000: 'TIER_10K',
  100_000: 'TIER_100K',
};

/**
 * Meta's messaging limit as one tier string, whichever way Meta wrote it:
 * `TIER_10K`, `10K`, `TIER_10000`, `10000` or the number 10000 → `TIER_10K`;
 * `UNLIMITED` → `TIER_UNLIMITED`. Undefined when it is not a limit.
 */
export function messagingLimitTier(value: unknown): string | undefined {
  if (typeof value === 'number') return tierOfLimit(value);
  if (typeof value !== 'string') return undefined;
  const name = value.trim().toUpperCase().replace(/^TIER_/, '');
  if (name === 'UNLIMITED' || name === 'NOT_SET') return `TIER_${name}`;
  const match = name.match(/^(\d+)(K?)$/);
  if (!match) return undefined;
  return tierOfLimit(Number(match[1]) * (match[2] ? 1_000 : 1));
}

function tierOfLimit(limit: number): string | undefined {
  if (!Number.isInteger(limit) || limit <= 0) return undefined;
  return TIER_BY_LIMIT[limit] ?? (limit % 1_000 === 0 ? `TIER_${limit / 1_000}K` : `TIER_${limit}`);
}
