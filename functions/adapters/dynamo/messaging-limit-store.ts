/**
 * The portfolio messaging limit on DynamoDB, as the core's
 * `MessagingLimitStore` (docs/quotas.md, "Portfolio messaging limit"): the
 * portfolio item (`PORTFOLIO#{portfolioId}`), its hourly buckets
 * (`LIMITBUCKET#{portfolioId}#{hour}`) and one reached item per user. A
 * round's units are taken in the same transaction as its credits and its
 * plan (`commitRound`); the parts are `messaging-limit-parts.ts`.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../../schemas/table.js';
import { ServiceBusy } from '../../core/errors.js';
import {
  type CapacityTake,
  HOLD_AFTER_HOUR_MS,
  HOUR_MS,
  type LiveBucket,
  type MessagingLimitStore,
  type PortfolioLimit,
  type ReachCell,
  type RoundCommit,
  type SendCommit,
  type Share,
  hourOf,
  lastDueHour,
} from '../../core/messaging-limit.js';
import type { Clock, ReserveCredits } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { heldReservation, reservationParts } from './credit-pool.js';
import * as entities from './entities/index.js';
import { DynamoLedger } from './ledger.js';
import { bucketAdd, bucketMoveOut, bucketRelease, countsOf, portfolioRelease, portfolioTake } from './messaging-limit-parts.js';
import { type TxPart, backoff, transact } from './transact.js';
import { updateExpression } from './update-expression.js';

const { portfolioLimit, limitBucket, reachedUser, conversation, BUCKET_NUMBER_PREFIX, NUMBER_USED_PREFIX } = entities;
/** A released bucket is kept this long (TTL), then deleted. */
const RELEASED_KEPT_SECONDS = 2 * 24 * 3600;

class BucketChanged extends Error {}

type Stored = ReturnType<typeof limitBucket.parse>;

export class DynamoMessagingLimitStore implements MessagingLimitStore {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  async portfolio(accountId: string, portfolioId: string): Promise<PortfolioLimit | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: portfolioLimit.key({ accountId, portfolioId }), ConsistentRead: true }));
    if (!Item) return undefined;
    const stored = portfolioLimit.parse(Item);
    return {
      accountId,
      portfolioId,
      tier: stored.tier,
      used: stored.used,
      usedByNumber: countsOf(Item, NUMBER_USED_PREFIX),
      shares: stored.shares as Record<string, Share>,
      sharesVersion: stored.sharesVersion,
    };
  }

  async releaseDue(accountId: string, portfolioId: string, now: Date): Promise<number> {
    const due = (await this.buckets(accountId, portfolioId, undefined, lastDueHour(now))).filter((b) => !b.released);
    for (const bucket of due) await this.release(accountId, portfolioId, bucket, now);
    return due.length;
  }

  async liveBuckets(accountId: string, portfolioId: string, now: Date): Promise<LiveBucket[]> {
    const from = hourOf(new Date(now.getTime() - HOUR_MS - HOLD_AFTER_HOUR_MS));
    return (await this.buckets(accountId, portfolioId, from))
      .filter((b) => !b.released && Date.parse(b.releaseAt) > now.getTime())
      .map((b) => ({ hour: b.hour, releaseAt: b.releaseAt, count: b.count, byNumber: b.byNumber }));
  }

  async audience(accountId: string, portfolioId: string, whatsappPhno: string, waIds: string[], now: Date, windowUntil: Date) {
    const [reachedItems, conversations] = await Promise.all([
      this.batchGet(waIds.map((waId) => reachedUser.key({ accountId, portfolioId, waId }))),
      this.batchGet(
        waIds.map((contactKey) => conversation.key({ accountId, whatsappPhno, contactKey })),
        `#pk, #sk, windowOpenUntil, freeEntryUntil`,
      ),
    ]);
    const reached = new Map<string, ReachCell>();
    for (const item of reachedItems) {
      const waId = reachedUser.keyParts(item)?.waId;
      const { bucket, owner, expiresAt } = reachedUser.parse(item);
      if (waId && expiresAt * 1000 > now.getTime()) reached.set(waId, { bucket, owner });
    }
    const windowOpen = new Set<string>();
    const freeEntry = new Set<string>();
    const openUntil = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : NaN) >= windowUntil.getTime();
    for (const item of conversations) {
      const contactKey = conversation.keyParts(item)?.contactKey;
      if (!contactKey) continue;
      if (openUntil(item.windowOpenUntil)) windowOpen.add(contactKey);
      if (openUntil(item.freeEntryUntil)) freeEntry.add(contactKey);
    }
    return { windowOpen, reached, freeEntry };
  }

  async commitRound(commit: RoundCommit): Promise<void> {
    const at = this.clock.now().toISOString();
    const { accountId, reservationId, whatsappPhno, plan, credits } = commit;
    const change: ReserveCredits = {
      accountId,
      reservationId,
      amountMicros: credits?.amountMicros ?? 0,
      idempotencyKey: credits?.idempotencyKey ?? `reserve:${reservationId}`,
      reason: credits?.reason ?? 'broadcast:reserve',
      whatsappPhno,
      refId: credits?.refId ?? plan.broadcastId,
      ...(credits ? { spend: credits.spend } : {}),
      attributes: { ...plan },
    };
    const extra: TxPart[] = [];
    if (commit.deferred) {
      const { count, resumesAt } = commit.deferred;
      extra.push({
        item: {
          Update: {
            TableName: this.tableName,
            Key: entities.broadcastCounter.key({ broadcastId: plan.broadcastId, chunk: plan.chunk }),
            ...updateExpression({ set: { chunk: plan.chunk, deferred: count, resumesAt }, remove: resumesAt ? [] : ['resumesAt'] }),
          },
        },
      });
    }
    if (commit.capacity) extra.push(...this.capacityParts(accountId, commit.capacity, at));
    await this.commitReservation(change, credits !== undefined, extra, at);
  }

  async commitSend(commit: SendCommit): Promise<void> {
    const at = this.clock.now().toISOString();
    const { accountId, reservationId, whatsappPhno, credits, refId, reason } = commit;
    const change: ReserveCredits = {
      accountId,
      reservationId,
      amountMicros: credits?.amountMicros ?? 0,
      idempotencyKey: `reserve:${reservationId}`,
      reason,
      whatsappPhno,
      refId,
      ...(credits ? { spend: credits.spend } : {}),
      attributes: commit.attributes,
    };
    await this.commitReservation(change, credits !== undefined && credits.amountMicros > 0, commit.capacity ? this.capacityParts(accountId, commit.capacity, at) : [], at);
  }

  /** The reservation with `extra` parts in ONE transaction: through the ledger when it pays, else the bare reservation item (the commit's marker). */
  private async commitReservation(change: ReserveCredits, pays: boolean, extra: TxPart[], at: string): Promise<void> {
    if (pays) {
      const { entry, parts } = reservationParts(this.tableName, change, at);
      await this.ledger.commit(change.accountId, entry, [...parts, ...extra]);
      return;
    }
    await transact(this.doc, [heldReservation(this.tableName, change, at), ...extra]);
  }

  /** The units a commit takes (guarded) and the reached users' units it moves into its bucket. */
  private capacityParts(accountId: string, capacity: CapacityTake, at: string): TxPart[] {
    const { portfolioId, bucket, releaseAt, owner, units, guard, moves } = capacity;
    const byOwner: Record<string, number> = units > 0 ? { [owner]: units } : {};
    const outOf = new Map<string, Record<string, number>>();
    for (const move of moves) {
      byOwner[move.owner] = (byOwner[move.owner] ?? 0) + move.count;
      outOf.set(move.from, { ...outOf.get(move.from), [move.owner]: (outOf.get(move.from)?.[move.owner] ?? 0) + move.count });
    }
    const parts: TxPart[] = [];
    if (units > 0) parts.push(portfolioTake(this.tableName, { accountId, portfolioId }, owner, units, guard, at));
    parts.push(bucketAdd(this.tableName, { accountId, portfolioId, hour: bucket }, releaseAt, byOwner));
    for (const [hour, counts] of outOf) parts.push(bucketMoveOut(this.tableName, { accountId, portfolioId, hour }, counts));
    return parts;
  }

  async markReached(accountId: string, portfolioId: string, waId: string, cell: ReachCell & { until: string }): Promise<void> {
    const expiresAt = Math.ceil(Date.parse(cell.until) / 1000);
    // Only forward: a later send (another number's, a later round) keeps the later expiry and its cell.
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: reachedUser.key({ accountId, portfolioId, waId }),
        UpdateExpression: 'SET #type = :type, #bucket = :bucket, #owner = :owner, expiresAt = :e',
        ConditionExpression: 'attribute_not_exists(#pk) OR expiresAt < :e',
        ExpressionAttributeNames: { '#type': 'type', '#bucket': 'bucket', '#owner': 'owner', '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':type': reachedUser.type, ':bucket': cell.bucket, ':owner': cell.owner, ':e': expiresAt },
      }),
    );
  }

  async setShare(accountId: string, portfolioId: string, whatsappPhno: string, share: Share | null, at: string): Promise<void> {
    await ensurePortfolio(this.doc, this.tableName, accountId, portfolioId, at);
    // The version moves with every change: a round decided on the old shares is refused and decides again.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: portfolioLimit.key({ accountId, portfolioId }),
        UpdateExpression: share
          ? 'SET shares.#phno = :share, sharesVersion = sharesVersion + :one, updatedAt = :at'
          : 'REMOVE shares.#phno SET sharesVersion = sharesVersion + :one, updatedAt = :at',
        ExpressionAttributeNames: { '#phno': whatsappPhno },
        ExpressionAttributeValues: { ':one': 1, ':at': at, ...(share ? { ':share': share } : {}) },
      }),
    );
  }

  /** Releases one due bucket; answers the units that left the count (0 when another caller released it first). */
  private async release(accountId: string, portfolioId: string, bucket: Stored & { byNumber: Record<string, number> }, now: Date): Promise<number> {
    let current = bucket;
    for (let attempt = 1; attempt <= 8; attempt++) {
      const key = { accountId, portfolioId, hour: current.hour };
      const ttl = Math.floor(now.getTime() / 1000) + RELEASED_KEPT_SECONDS;
      const parts = [bucketRelease(this.tableName, key, current.count, ttl, () => new BucketChanged())];
      if (current.count > 0) parts.push(portfolioRelease(this.tableName, { accountId, portfolioId }, current.count, current.byNumber, now.toISOString()));
      try {
        await transact(this.doc, parts);
        return current.count;
      } catch (error) {
        if (!(error instanceof BucketChanged)) throw error;
      }
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: limitBucket.key(key), ConsistentRead: true }));
      if (!Item) return 0;
      const parsed = limitBucket.parse(Item);
      if (parsed.released) return 0;
      current = { ...parsed, byNumber: countsOf(Item, BUCKET_NUMBER_PREFIX) };
      await backoff(attempt);
    }
    throw new ServiceBusy('A messaging-limit bucket kept changing while being released; retry.');
  }

  /** The portfolio's buckets from hour `from` (or the first) to hour `to` (or the last), strongly consistent. */
  private async buckets(accountId: string, portfolioId: string, from?: string, to?: string) {
    const prefix = limitBucket.skPrefix({ portfolioId });
    const bound = (hour: string | undefined, otherwise: string) => (hour ? limitBucket.key({ accountId, portfolioId, hour }).sk : otherwise);
    const out: (Stored & { byNumber: Record<string, number> })[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': limitBucket.partition({ accountId }), ':from': bound(from, prefix), ':to': bound(to, `${prefix}\uffff`) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) out.push({ ...limitBucket.parse(item), byNumber: countsOf(item, BUCKET_NUMBER_PREFIX) });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /** Every item of `keys` that exists (100 keys a request, unprocessed keys retried), strongly consistent. */
  private async batchGet(keys: Record<string, unknown>[], projection?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 1; pending && pending.length > 0; attempt++) {
        const request = {
          Keys: pending,
          ConsistentRead: true,
          ...(projection ? { ProjectionExpression: projection, ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey } } : {}),
        };
        const answer = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: request } }));
        items.push(...(answer.Responses?.[this.tableName] ?? []));
        pending = answer.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
        if (pending?.length) await backoff(attempt, 20, 1000);
      }
    }
    return items;
  }
}

/** Creates the portfolio item with nothing held, where there is none (a share set, a tier reported, before any use). */
export async function ensurePortfolio(doc: DynamoDBDocumentClient, tableName: string, accountId: string, portfolioId: string, at: string): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: portfolioLimit.key({ accountId, portfolioId }),
      UpdateExpression:
        'SET #type = :type, portfolioId = :p, used = if_not_exists(used, :zero), shares = if_not_exists(shares, :empty), sharesVersion = if_not_exists(sharesVersion, :zero), updatedAt = if_not_exists(updatedAt, :at)',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': portfolioLimit.type, ':p': portfolioId, ':zero': 0, ':empty': {}, ':at': at },
    }),
  );
}
