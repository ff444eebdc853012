/**
 * Templates on DynamoDB: one item per template with two maps, `wabas.{wabaId}`
 * and `numbers.{phno}`. Every change touches one map entry with a condition on
 * that entry alone, so concurrent updates of different numbers never
 * overwrite each other.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TemplateStatus } from '../../../schemas/templates.js';
import type {
  MetaTemplateStatus,
  StoredTemplate,
  TemplateNumberState,
  TemplateRef,
  TemplateRepository,
  TemplateWabaState,
} from '../../core/template-ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { queryAll } from './query.js';

type UpdateInput = Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>;

export class DynamoTemplateRepository implements TemplateRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(ref: TemplateRef): Promise<StoredTemplate | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: templateKey(ref), ConsistentRead: true }));
    return Item ? toTemplate(Item) : undefined;
  }

  async list(accountId: string): Promise<StoredTemplate[]> {
    return (await queryAll(this.doc, this.tableName, entities.template.partition({ accountId }), entities.template.skPrefix())).map(toTemplate);
  }

  async createIfAbsent(template: StoredTemplate): Promise<{ created: boolean; template: StoredTemplate }> {
    const put = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.template.item({ accountId: template.accountId, name: template.name, language: template.language }, template),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (put.applied) return { created: true, template };
    const existing = await this.get(template);
    if (!existing) return this.createIfAbsent(template);
    return { created: false, template: existing };
  }

  async claimWabaSubmission(ref: TemplateRef, wabaId: string, at: string, staleBefore: string): Promise<boolean> {
    const claim: TemplateWabaState = { status: 'SUBMITTING', updatedAt: at };
    return this.updateIf(ref, {
      UpdateExpression: 'SET wabas.#w = :claim, updatedAt = :at',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(wabas.#w) OR (wabas.#w.#s = :submitting AND wabas.#w.updatedAt < :stale))',
      ExpressionAttributeNames: { '#w': wabaId, '#s': 'status' },
      ExpressionAttributeValues: { ':claim': claim, ':at': at, ':submitting': 'SUBMITTING', ':stale': staleBefore },
    });
  }

  async recordSubmission(
    ref: TemplateRef,
    wabaId: string,
    whatsappPhnos: string[],
    outcome: { status: TemplateStatus; reason?: string; metaTemplateId?: string },
    at: string,
  ): Promise<void> {
    const state: TemplateWabaState = { ...outcome, updatedAt: at };
    // Only over our own claim: a webhook decision that arrived first is newer than Meta's answer to the submission.
    await this.updateIf(ref, {
      UpdateExpression: 'SET wabas.#w = :state, updatedAt = :at',
      ConditionExpression: 'wabas.#w.#s = :submitting',
      ExpressionAttributeNames: { '#w': wabaId, '#s': 'status' },
      ExpressionAttributeValues: { ':state': state, ':at': at, ':submitting': 'SUBMITTING' },
    });
    for (const phno of whatsappPhnos) {
      const numberState: TemplateNumberState = { wabaId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), updatedAt: at };
      await this.updateIf(ref, {
        UpdateExpression: 'SET numbers.#p = :state',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(numbers.#p.metaAt)',
        ExpressionAttributeNames: { '#p': phno },
        ExpressionAttributeValues: { ':state': numberState },
      });
    }
  }

  async releaseWabaSubmission(ref: TemplateRef, wabaId: string): Promise<void> {
    await this.updateIf(ref, {
      UpdateExpression: 'REMOVE wabas.#w',
      ConditionExpression: 'wabas.#w.#s = :submitting',
      ExpressionAttributeNames: { '#w': wabaId, '#s': 'status' },
      ExpressionAttributeValues: { ':submitting': 'SUBMITTING' },
    });
  }

  async setNumberStatusIfAbsent(ref: TemplateRef, whatsappPhno: string, state: TemplateNumberState): Promise<boolean> {
    return this.updateIf(ref, {
      UpdateExpression: 'SET numbers.#p = :state',
      // Absent, or left from a WABA the number no longer belongs to.
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(numbers.#p) OR numbers.#p.wabaId <> :waba)',
      ExpressionAttributeNames: { '#p': whatsappPhno },
      ExpressionAttributeValues: { ':state': state, ':waba': state.wabaId },
    });
  }

  async applyMetaStatus(ref: TemplateRef, update: MetaTemplateStatus, at: string): Promise<void> {
    const numberState: TemplateNumberState = {
      wabaId: update.wabaId,
      status: update.status,
      ...(update.reason ? { reason: update.reason } : {}),
      updatedAt: at,
      metaAt: update.occurredAt,
    };
    const toNumber = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: templateKey(ref),
        UpdateExpression: `SET numbers.#p = :state, updatedAt = :at${update.category ? ', category = :category' : ''}`,
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(numbers.#p.metaAt) OR numbers.#p.metaAt <= :occurred)',
        ExpressionAttributeNames: { '#p': update.whatsappPhno },
        ExpressionAttributeValues: {
          ':state': numberState,
          ':at': at,
          ':occurred': update.occurredAt,
          ...(update.category ? { ':category': update.category } : {}),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!toNumber.applied && toNumber.existing) {
      // What is stored for this number is newer: this event is late.
      await this.applyToWaba(ref, update, at);
      return;
    }
    if (!toNumber.applied) {
      // A template made outside this API (WhatsApp Manager): known from Meta's webhook from now on.
      await this.createIfAbsent({
        ...ref,
        category: update.category ?? 'MARKETING',
        components: [],
        numbers: {},
        wabas: {},
        createdAt: at,
        updatedAt: at,
      });
      await this.updateIf(ref, {
        UpdateExpression: 'SET numbers.#p = :state, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(numbers.#p.metaAt) OR numbers.#p.metaAt <= :occurred)',
        ExpressionAttributeNames: { '#p': update.whatsappPhno },
        ExpressionAttributeValues: { ':state': numberState, ':at': at, ':occurred': update.occurredAt },
      });
    }
    await this.applyToWaba(ref, update, at);
  }

  private async applyToWaba(ref: TemplateRef, update: MetaTemplateStatus, at: string): Promise<void> {
    const wabaState: TemplateWabaState = {
      status: update.status,
      ...(update.reason ? { reason: update.reason } : {}),
      ...(update.metaTemplateId ? { metaTemplateId: update.metaTemplateId } : {}),
      updatedAt: at,
      metaAt: update.occurredAt,
    };
    await this.updateIf(ref, {
      UpdateExpression: 'SET wabas.#w = :state',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(wabas.#w.metaAt) OR wabas.#w.metaAt <= :occurred)',
      ExpressionAttributeNames: { '#w': update.wabaId },
      ExpressionAttributeValues: { ':state': wabaState, ':occurred': update.occurredAt },
    });
  }

  /** One conditional update of the template's item: `true` when applied. */
  private async updateIf(ref: TemplateRef, input: UpdateInput): Promise<boolean> {
    return (await writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, Key: templateKey(ref), ...input }))).applied;
  }
}

function templateKey(ref: TemplateRef) {
  return entities.template.key({ accountId: ref.accountId, name: ref.name, language: ref.language });
}

function toTemplate(item: Record<string, unknown>): StoredTemplate {
  const stored = entities.template.parse(item);
  // The account from the key, not the attribute: a merge copies templates into another account's partition.
  const { accountId } = entities.template.keyParts(item) ?? { accountId: '' };
  return { accountId, ...stored };
}
