/**
 * Sequence enrolments on DynamoDB (docs/automations.md, "Sequences";
 * entities in `entities/sequence.ts`):
 *
 * - `create` puts the active marker (`attribute_not_exists`) and the
 *   enrolment in one transaction: of concurrent enrolments of one contact in
 *   one sequence on one number, one is stored; the others read the marker
 *   and answer the enrolment it names.
 * - `end` updates the enrolment (only while `active`) and deletes the marker
 *   (only while it names this enrolment) in one transaction.
 * - `claimStep`, `recordStep` and `postpone` are conditional updates of the
 *   enrolment on its `status` and `nextStep`: a redelivered or late step
 *   changes nothing; `recordStep` that completes the enrolment frees the
 *   marker in the same transaction.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { TransactionConditionFailed } from '../../core/backend-failures.js';
import { ServiceBusy } from '../../core/errors.js';
import type { ConversationRef } from '../../core/inbox-ports.js';
import type { Page, PageRequest } from '../../core/ports.js';
import type { EnrollmentStatus, StepOutcome } from '../../core/sequence-ports.js';
import type { EnrollmentKey, SequenceStore, StepAdvance, StoredEnrollment } from '../../core/sequences.js';
import { writeIf } from './conditional-write.js';
import { activeEnrollment, sequenceEnrollment } from './entities/index.js';
import { queryAll, queryPage } from './query.js';
import { REPLAY, type TxPart, transact } from './transact.js';

type EnrollmentItem = z.output<typeof sequenceEnrollment.schema>;

export class DynamoSequenceStore implements SequenceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(enrollment: StoredEnrollment): Promise<{ created: boolean; enrollment: StoredEnrollment }> {
    const { ref, sequenceId, enrollmentId } = enrollment;
    const marker = activeEnrollment.item(markerKey(ref, sequenceId), { sequenceId, enrollmentId, at: enrollment.enrolledAt });
    const result = await transact(this.doc, [
      { item: { Put: { TableName: this.tableName, Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } }, onConditionFailed: () => REPLAY },
      { item: { Put: { TableName: this.tableName, Item: sequenceEnrollment.item(enrollment, itemOf(enrollment)), ConditionExpression: 'attribute_not_exists(pk)' } } },
    ]);
    if (result === 'committed') return { created: true, enrollment };
    for (let attempt = 0; attempt < 5; attempt++) {
      const active = await this.active(ref, sequenceId);
      if (active) return { created: false, enrollment: active };
      // The one that held the slot ended between our write and this read: take it.
      const retry = await transact(this.doc, [
        { item: { Put: { TableName: this.tableName, Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } }, onConditionFailed: () => REPLAY },
        { item: { Put: { TableName: this.tableName, Item: sequenceEnrollment.item(enrollment, itemOf(enrollment)), ConditionExpression: 'attribute_not_exists(pk)' } } },
      ]);
      if (retry === 'committed') return { created: true, enrollment };
    }
    throw new ServiceBusy('The enrolment slot kept changing; retry.');
  }

  async get(key: EnrollmentKey): Promise<StoredEnrollment | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: sequenceEnrollment.key(key), ConsistentRead: true }));
    return Item ? enrollmentOf(sequenceEnrollment.parse(Item)) : undefined;
  }

  async active(ref: ConversationRef, sequenceId: string): Promise<StoredEnrollment | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: activeEnrollment.key(markerKey(ref, sequenceId)), ConsistentRead: true }));
    if (!Item) return undefined;
    const enrollment = await this.get({ accountId: ref.accountId, sequenceId, enrollmentId: activeEnrollment.parse(Item).enrollmentId });
    return enrollment?.status === 'active' ? enrollment : undefined;
  }

  async activeOf(ref: ConversationRef): Promise<StoredEnrollment[]> {
    const markers = await queryAll(this.doc, this.tableName, activeEnrollment.partition(markerKey(ref, '')), activeEnrollment.skPrefix());
    const found = await Promise.all(
      markers.map((item) => {
        const { sequenceId, enrollmentId } = activeEnrollment.parse(item);
        return this.get({ accountId: ref.accountId, sequenceId, enrollmentId });
      }),
    );
    return found.filter((e): e is StoredEnrollment => e?.status === 'active');
  }

  async list(accountId: string, sequenceId: string, page: PageRequest): Promise<Page<StoredEnrollment>> {
    const { items, nextCursor } = await queryPage(
      this.doc,
      this.tableName,
      { entity: sequenceEnrollment, partition: sequenceEnrollment.partition({ accountId, sequenceId }), skPrefix: sequenceEnrollment.skPrefix() },
      page,
    );
    return { items: items.map(enrollmentOf), nextCursor };
  }

  async end(key: EnrollmentKey, status: Exclude<EnrollmentStatus, 'active'>, reason: string, at: string): Promise<boolean> {
    const current = await this.get(key);
    if (!current || current.status !== 'active') return false;
    return this.transactOrFalse([this.ending(key, status, reason, at), this.freeing(current)]);
  }

  async claimStep(key: EnrollmentKey, step: number, at: string): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: sequenceEnrollment.key(key),
        UpdateExpression: 'SET claimStep = :step, claimedAt = :at',
        ConditionExpression: '#status = :active AND nextStep = :step AND (attribute_not_exists(claimStep) OR claimStep <> :step)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':step': step, ':at': at, ':active': 'active' },
      }),
    );
    return write.applied;
  }

  async recordStep(key: EnrollmentKey, outcome: StepOutcome, advance: StepAdvance): Promise<boolean> {
    const completed = 'completed' in advance;
    const base = {
      TableName: this.tableName,
      Key: sequenceEnrollment.key(key),
      ExpressionAttributeNames: { '#status': 'status' },
    };
    const values = { ':outcome': [outcome], ':next': outcome.step + 1, ':step': outcome.step };
    const advancing = {
      ...base,
      UpdateExpression: completed
        ? 'SET steps = list_append(steps, :outcome), nextStep = :next, #status = :completed, endedAt = :at, endReason = :completed REMOVE nextDueAt'
        : 'SET steps = list_append(steps, :outcome), nextStep = :next, nextDueAt = :due',
      ConditionExpression: '#status = :active AND nextStep = :step AND claimStep = :step',
      ExpressionAttributeValues: { ...values, ':active': 'active', ...(completed ? { ':completed': 'completed', ':at': advance.at } : { ':due': advance.nextDueAt }) },
    };
    let applied: boolean;
    if (!completed) applied = (await writeIf(this.doc, new UpdateCommand(advancing))).applied;
    else {
      const current = await this.get(key);
      applied = current ? await this.transactOrFalse([{ item: { Update: advancing } }, this.freeing(current)]) : false;
    }
    if (applied) return true;
    // Ended while the step was being sent (the contact replied): the outcome is still recorded, nothing more moves.
    const recordOnly = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: sequenceEnrollment.key(key),
        UpdateExpression: 'SET steps = list_append(steps, :outcome), nextStep = :next',
        ConditionExpression: '#status <> :active AND nextStep = :step AND claimStep = :step',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...values, ':active': 'active' },
      }),
    );
    return recordOnly.applied;
  }

  private async transactOrFalse(parts: TxPart[]): Promise<boolean> {
    try {
      await transact(this.doc, parts);
      return true;
    } catch (error) {
      if (error instanceof TransactionConditionFailed) return false;
      throw error;
    }
  }

  async postpone(key: EnrollmentKey, step: number, nextDueAt: string): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: sequenceEnrollment.key(key),
        UpdateExpression: 'SET nextDueAt = :due',
        ConditionExpression: '#status = :active AND nextStep = :step',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':due': nextDueAt, ':step': step, ':active': 'active' },
      }),
    );
    return write.applied;
  }

  async releaseClaim(key: EnrollmentKey, step: number, nextDueAt: string): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: sequenceEnrollment.key(key),
        UpdateExpression: 'SET nextDueAt = :due REMOVE claimStep, claimedAt',
        ConditionExpression: '#status = :active AND nextStep = :step AND claimStep = :step',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':due': nextDueAt, ':step': step, ':active': 'active' },
      }),
    );
    return write.applied;
  }

  private ending(key: EnrollmentKey, status: string, reason: string, at: string): TxPart {
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: sequenceEnrollment.key(key),
          UpdateExpression: 'SET #status = :status, endedAt = :at, endReason = :reason REMOVE nextDueAt',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':at': at, ':reason': reason, ':active': 'active' },
        },
      },
    };
  }

  /** Deletes the slot's marker while it names this enrolment (a marker of a later enrolment stays). */
  private freeing(enrollment: StoredEnrollment): TxPart {
    return {
      item: {
        Delete: {
          TableName: this.tableName,
          Key: activeEnrollment.key(markerKey(enrollment.ref, enrollment.sequenceId)),
          ConditionExpression: 'attribute_not_exists(pk) OR enrollmentId = :id',
          ExpressionAttributeValues: { ':id': enrollment.enrollmentId },
        },
      },
    };
  }
}

function markerKey(ref: ConversationRef, sequenceId: string) {
  return { accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey, sequenceId };
}

function itemOf(e: StoredEnrollment): EnrollmentItem {
  return {
    enrollmentId: e.enrollmentId,
    accountId: e.accountId,
    sequenceId: e.sequenceId,
    whatsappPhno: e.ref.whatsappPhno,
    contactKey: e.ref.contactKey,
    status: e.status,
    nextStep: e.nextStep,
    ...(e.nextDueAt ? { nextDueAt: e.nextDueAt } : {}),
    enrolledAt: e.enrolledAt,
    enrolledBy: e.enrolledBy,
    steps: e.steps,
    ...(e.claimStep !== undefined ? { claimStep: e.claimStep } : {}),
    ...(e.claimedAt ? { claimedAt: e.claimedAt } : {}),
    ...(e.endedAt ? { endedAt: e.endedAt } : {}),
    ...(e.endReason ? { endReason: e.endReason } : {}),
  };
}

function enrollmentOf(item: EnrollmentItem): StoredEnrollment {
  const { whatsappPhno, contactKey, ...rest } = item;
  return { ...rest, ref: { accountId: item.accountId, whatsappPhno, contactKey } } as StoredEnrollment;
}

