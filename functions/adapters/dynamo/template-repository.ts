/**
 * Templates on DynamoDB: one item per template (`A#{id}` / `TEMPLATE#{name}#{lang}`)
 * with two maps, `wabas.{wabaId}` and `numbers.{phno}`. Every change touches one
 * map entry with a condition on that entry alone, so concurrent updates of
 * different numbers never overwrite each other.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import type {
  MetaTemplateStatus,
  StoredTemplate,
  TemplateNumberState,
  TemplateRef,
  TemplateRepository,
  TemplateStatus,
  TemplateWabaState,
} from '../../core/templates.js';
import { queryAll, writeIf } from './query.js';

export class DynamoTemplateRepository implements TemplateRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(ref: TemplateRef): Promise<StoredTemplate | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(ref), ConsistentRead: true }));
    return Item ? toTemplate(Item) : undefined;
  }

  async list(accountId: string): Promise<StoredTemplate[]> {
    return (await queryAll(this.doc, this.tableName, keys.account(accountId).pk, keys.templatesPrefix())).map(toTemplate);
  }

  async createIfAbsent(template: StoredTemplate): Promise<{ created: boolean; template: StoredTemplate }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(template), type: 'template', ...template },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, template };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await this.get(template);
    if (!existing) return this.createIfAbsent(template);
    return { created: false, template: existing };
  }

  async claimWabaSubmission(ref: TemplateRef, wabaId: string, at: string, staleBefore: string): Promise<boolean> {
    const claim: TemplateWabaState = { status: 'SUBMITTING', updatedAt: at };
    return this.conditionalUpdate({
      Key: this.key(ref),
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
    await this.conditionalUpdate({
      Key: this.key(ref),
      UpdateExpression: 'SET wabas.#w = :state, updatedAt = :at',
      ConditionExpression: 'wabas.#w.#s = :submitting',
      ExpressionAttributeNames: { '#w': wabaId, '#s': 'status' },
      ExpressionAttributeValues: { ':state': state, ':at': at, ':submitting': 'SUBMITTING' },
    });
    for (const phno of whatsappPhnos) {
      const numberState: TemplateNumberState = { wabaId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), updatedAt: at };
      await this.conditionalUpdate({
        Key: this.key(ref),
        UpdateExpression: 'SET numbers.#p = :state',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(numbers.#p.metaAt)',
        ExpressionAttributeNames: { '#p': phno },
        ExpressionAttributeValues: { ':state': numberState },
      });
    }
  }

  async releaseWabaSubmission(ref: TemplateRef, wabaId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: this.key(ref),
      UpdateExpression: 'REMOVE wabas.#w',
      ConditionExpression: 'wabas.#w.#s = :submitting',
      ExpressionAttributeNames: { '#w': wabaId, '#s': 'status' },
      ExpressionAttributeValues: { ':submitting': 'SUBMITTING' },
    });
  }

  async setNumberStatusIfAbsent(ref: TemplateRef, whatsappPhno: string, state: TemplateNumberState): Promise<boolean> {
    return this.conditionalUpdate({
      Key: this.key(ref),
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
    const applyToNumber = () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(ref),
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
    try {
      await applyToNumber();
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item && Object.keys(error.Item).length > 0) {
        // What is stored for this number is newer: this event is late.
        await this.applyToWaba(ref, update, at);
        return;
      }
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
      await this.conditionalUpdate({
        Key: this.key(ref),
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
    await this.conditionalUpdate({
      Key: this.key(ref),
      UpdateExpression: 'SET wabas.#w = :state',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(wabas.#w.metaAt) OR wabas.#w.metaAt <= :occurred)',
      ExpressionAttributeNames: { '#w': update.wabaId },
      ExpressionAttributeValues: { ':state': wabaState, ':occurred': update.occurredAt },
    });
  }

  /** One conditional UpdateItem: `true` when applied, `false` when its condition said no. */
  private conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    return writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, ...input }));
  }

  private key(ref: TemplateRef) {
    return keys.template(ref.accountId, ref.name, ref.language);
  }
}

function toTemplate(item: Record<string, unknown>): StoredTemplate {
  const t = item as unknown as StoredTemplate;
  return {
    // From the key, not the attribute: a merge copies templates into another account's partition.
    accountId: (item.pk as string).slice(2),
    name: t.name,
    language: t.language,
    category: t.category,
    components: t.components ?? [],
    numbers: t.numbers ?? {},
    wabas: t.wabas ?? {},
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}
