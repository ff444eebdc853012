/**
 * The first transaction of a merge (`DynamoMergeRepository.begin`), as pure
 * parts: the progress item, the source closed, the target's add-ons and
 * counters raised, the target's number slots reserved, each guarded by what
 * the plan read; a quota refusal here leaves nothing changed.
 */
import type { Addons } from '../../../schemas/accounts.js';
import { ADDON_TYPES } from '../../../schemas/words.js';
import { Conflict, NotFound, QuotaExceeded } from '../../core/errors.js';
import { StaleNumberState } from '../../core/backend-failures.js';
import type { MergePlan, MergeProgress } from '../../core/merge.js';
import { MAX_ADDITIONAL_NUMBERS, addonResource, billingPeriod, counterLimit, isGauge } from '../../core/plan.js';
import * as entities from './entities/index.js';
import { markerCheck, putMarker } from './number-parts.js';
import { REPLAY, type TxPart } from './transact.js';
import { ledgerPut, putNew, raiseLimit } from './transaction-parts.js';

/** Ledger keys of a merge: derived from both accounts, so a re-run writes the same keys and changes nothing twice. */
export function mergeKey(sourceAccountId: string, targetAccountId: string, step: string): string {
  return `merge:${sourceAccountId}:${targetAccountId}:${step}`;
}

export function beginMergeParts(tableName: string, plan: MergePlan, progress: MergeProgress): TxPart[] {
  const s = plan.source.accountId;
  const t = plan.target.accountId;
  const moved = plan.source.addons;
  const stale = (what: string) => () => new StaleNumberState(what);
  const parts: TxPart[] = [
    {
      ...putNew(tableName, entities.mergeProgress.item({ accountId: s }, progress)),
      // Another run of this very merge began first: carry on with it.
      onConditionFailed: (old) =>
        old?.targetAccountId === t ? REPLAY : new Conflict('ACCOUNT_MERGED', `Account ${s} is merged into another account.`, { sourceAccountId: s }),
    },
  ];

  const slots = plan.slots;
  if (slots > 0 || moved.number > 0) parts.push(reserveSlots(tableName, plan));

  // The source: closed in this same transaction, only if still as read (same add-ons, same numbers).
  parts.push({
    item: {
      Update: {
        TableName: tableName,
        Key: entities.account.key({ accountId: s }),
        UpdateExpression: 'SET #status = :closed, mergedInto = :target, closedAt = :at',
        ConditionExpression: `#status = :active AND ${addonLock('src')}`,
        ExpressionAttributeNames: { '#status': 'status', ...addonNames() },
        ExpressionAttributeValues: { ':closed': 'closed', ':active': 'active', ':target': t, ':at': plan.at, ...addonValues('src', moved) },
      },
    },
    onConditionFailed: stale('the source account changed meanwhile'),
  });
  parts.push({
    item: {
      ConditionCheck: {
        TableName: tableName,
        Key: entities.gaugeQuota.key({ accountId: s, resource: 'additionalNumbers' }),
        ConditionExpression: 'used = :used',
        ExpressionAttributeValues: { ':used': plan.sourceSlotsUsed },
      },
    },
    onConditionFailed: stale("the source's numbers changed meanwhile"),
  });
  parts.push({
    item: {
      ConditionCheck: {
        TableName: tableName,
        Key: entities.defaultNumber.key({ accountId: s }),
        ConditionExpression: plan.sourceDefault ? 'whatsapp_phno = :phno' : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: plan.sourceDefault ? { ':phno': plan.sourceDefault } : undefined,
      },
    },
    onConditionFailed: stale("the source's default changed meanwhile"),
  });

  // The target: add-ons raised (locked on the values read, as a purchase is), counters raised with them.
  parts.push({
    item: {
      Update: {
        TableName: tableName,
        Key: entities.account.key({ accountId: t }),
        UpdateExpression: `SET ${ADDON_TYPES.map((type) => `addons.#a_${type} = :tgt_${type} + :src_${type}`).join(', ')}`,
        ConditionExpression: `#status = :active AND ${addonLock('tgt')}`,
        ExpressionAttributeNames: { '#status': 'status', ...addonNames() },
        ExpressionAttributeValues: { ':active': 'active', ...addonValues('tgt', plan.target.addons), ...addonValues('src', moved) },
      },
    },
    onConditionFailed: (old) => (old?.status === 'active' ? new StaleNumberState('the target account changed meanwhile') : new NotFound('The account')),
  });
  const becomesDefault = plan.numbers.find((n) => n.becomesDefault);
  if (becomesDefault) {
    // The target had no number: the source's default becomes its default (an account with numbers has one).
    parts.push(putMarker(tableName, t, becomesDefault.whatsapp_phno, plan.at, stale('the target connected a default meanwhile')));
  } else if (plan.numbers.length > 0) {
    parts.push(markerCheck(tableName, t, true, stale("the target's default was removed meanwhile")));
  }

  const period = billingPeriod(plan.target.billingAnchor, new Date(plan.at)).key;
  for (const type of ADDON_TYPES) {
    const quantity = moved[type];
    if (quantity <= 0) continue;
    const resource = addonResource(type);
    if (resource !== 'additionalNumbers') {
      parts.push(raiseLimit(tableName, { accountId: t, resource, period, oldLimit: counterLimit(plan.target, resource), quantity }));
    }
    parts.push(
      ledgerPut(tableName, t, {
        idempotencyKey: mergeKey(s, t, `addon:${type}`),
        at: plan.at,
        resource,
        amount: quantity,
        reason: 'merge:addons',
        refId: s,
        ...(isGauge(resource) ? {} : { period }),
      }),
    );
  }
  if (slots > 0) {
    parts.push(
      ledgerPut(tableName, t, { idempotencyKey: mergeKey(s, t, 'numbers'), at: plan.at, resource: 'additionalNumbers', amount: -slots, reason: 'merge:numbers', refId: s }),
    );
  }
  return parts;
}

/** Room on the target for every moved number, counting the source's add-ons, and never past 15. */
function reserveSlots(tableName: string, plan: MergePlan): TxPart {
  const { slots } = plan;
  const moved = plan.source.addons;
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: entities.gaugeQuota.key({ accountId: plan.target.accountId, resource: 'additionalNumbers' }),
        UpdateExpression: 'SET #limit = #limit + :addons, remaining = remaining + :delta, used = used + :slots, updatedAt = :at',
        ConditionExpression: 'remaining >= :needed AND used <= :capLessSlots',
        ExpressionAttributeNames: { '#limit': 'limit' },
        ExpressionAttributeValues: {
          ':addons': moved.number,
          ':delta': moved.number - slots,
          ':slots': slots,
          ':needed': slots - moved.number,
          ':capLessSlots': MAX_ADDITIONAL_NUMBERS - slots,
          ':at': plan.at,
        },
      },
    },
    onConditionFailed: (old) => {
      if (!old) return new NotFound('The account');
      const used = old.used as number;
      const limit = used + slots > MAX_ADDITIONAL_NUMBERS ? MAX_ADDITIONAL_NUMBERS : Math.min((old.limit as number) + moved.number, MAX_ADDITIONAL_NUMBERS);
      const error = new QuotaExceeded('additionalNumbers', limit, used);
      Object.assign(error.details, { requested: slots, sourceAccountId: plan.source.accountId });
      return error;
    },
  };
}

function addonNames(): Record<string, string> {
  return Object.fromEntries(ADDON_TYPES.map((type) => [`#a_${type}`, type]));
}

function addonValues(prefix: string, addons: Addons): Record<string, number> {
  return Object.fromEntries(ADDON_TYPES.map((type) => [`:${prefix}_${type}`, addons[type]]));
}

function addonLock(prefix: string): string {
  return ADDON_TYPES.map((type) => `addons.#a_${type} = :${prefix}_${type}`).join(' AND ');
}
