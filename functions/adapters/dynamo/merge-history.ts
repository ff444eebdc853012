/**
 * A merge's copy of the source's history into the target: contacts (and their
 * BSUID links and marketing preferences), conversations with their message partitions, templates,
 * automations and the moved numbers' spend. Each copy is a conditional put
 * (`attribute_not_exists`) with the keys re-pointed at the target, so copying
 * twice writes nothing twice, and where the target has its own item of that
 * key (a template of the same name) the target's is kept. The closed source
 * keeps its rows as an archive nothing reads.
 */
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../../schemas/table.js';
import type { MergeProgress } from '../../core/merge.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { queryPartition } from './query.js';

/** The account-partition items a merge copies; a conversation's messages follow it. */
export const MERGED_ENTITIES = [
  entities.contact,
  entities.contactUserId,
  entities.marketingPreference,
  entities.conversation,
  entities.template,
  entities.automation,
  entities.numberSpend,
];

/** How many item copies run at once: enough to be quick, few enough not to throttle a table. */
const COPY_CONCURRENCY = 10;

type Item = Record<string, unknown>;

export class DynamoMergeHistory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async copyHistory(progress: MergeProgress): Promise<number> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    let written = 0;
    for (const entity of MERGED_ENTITIES) {
      for await (const items of queryPartition(this.doc, this.tableName, entity.partition({ accountId: s }), entity.skPrefix())) {
        written += await this.copyAll(items, s, t);
        if (entity !== entities.conversation) continue;
        // A conversation's history lives in its own partition, keyed by the account too.
        for (const conversation of items) {
          const { whatsappPhno, contactKey } = entities.conversation.keyParts(conversation)!;
          const messages = entities.message.partition({ accountId: s, whatsappPhno, contactKey });
          for await (const page of queryPartition(this.doc, this.tableName, messages)) {
            written += await this.copyAll(page, s, t, (message, copy) => this.repointWamid(message, copy, t));
          }
        }
      }
    }
    return written;
  }

  /**
   * Puts each item under the target unless already there: each copy is one
   * conditional single-item write. `after` runs for every item, copied now or
   * before, so a run interrupted between the two finishes the second.
   */
  private async copyAll(items: Item[], sourceId: string, targetId: string, after?: (original: Item, copy: Item) => Promise<void>): Promise<number> {
    let written = 0;
    for (let i = 0; i < items.length; i += COPY_CONCURRENCY) {
      const results = await Promise.all(
        items.slice(i, i + COPY_CONCURRENCY).map(async (item) => {
          const copy = reKey(item, sourceId, targetId);
          // Not applied: copied by an earlier run, or the target has its own item of that key: keep it.
          const put = await writeIf(this.doc, new PutCommand({ TableName: this.tableName, Item: copy, ConditionExpression: 'attribute_not_exists(pk)' }));
          await after?.(item, copy);
          return put.applied ? 1 : 0;
        }),
      );
      written += results.reduce<number>((sum, n) => sum + n, 0);
    }
    return written;
  }

  /**
   * A message's wamid pointer (how a status finds its message) follows the
   * message to the target, so statuses arriving after the merge update the
   * target's copy. Only a pointer still naming the source's item is changed:
   * no pointer (an inbound message), or one repointed by an earlier run, is left.
   */
  private async repointWamid(message: Item, copy: Item, targetId: string): Promise<void> {
    if (typeof message.wamid !== 'string' || typeof message.phoneNumberId !== 'string') return;
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.wamidPointer.key({ phoneNumberId: message.phoneNumberId, wamid: message.wamid }),
        UpdateExpression: 'SET messagePk = :to, accountId = :account',
        ConditionExpression: 'messagePk = :from AND messageSk = :sk',
        ExpressionAttributeValues: { ':to': copy.pk, ':from': message.pk, ':sk': message.sk, ':account': targetId },
      }),
    );
  }
}

/** The key attributes that embed an account id: the partition key and every index key. */
const ACCOUNT_KEYED = new Set([TABLE.partitionKey, ...TABLE.globalSecondaryIndexes.flatMap((gsi) => [gsi.partitionKey, gsi.sortKey])]);

/** The item under the target: partition and index keys embedding the source's id point at the target instead. */
export function reKey(item: Item, sourceId: string, targetId: string): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value === 'string' && ACCOUNT_KEYED.has(name)) out[name] = value.split(sourceId).join(targetId);
    else if (name === 'accountId' && value === sourceId) out[name] = targetId;
    else out[name] = value;
  }
  return out;
}
