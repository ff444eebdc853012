/**
 * Marketing preferences on DynamoDB, as the core's `MarketingPreferenceStore`
 * (`functions/core/marketing-preferences.ts`): one item per (number, contact,
 * category) under the account. A preference is put only over an older one
 * (one conditional write: `at` later, or the same `at` and a value that wins
 * the tie), so a redelivery or an older event delivered late changes
 * nothing; the sender reads a chunk's recipients in one BatchGet per 100.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MarketingPreference, MarketingPreferenceStore } from '../../core/marketing-preferences.js';
import { writeIf } from './conditional-write.js';
import { marketingPreference } from './entities/index.js';
import { batchGetAll } from './query.js';

export class DynamoMarketingPreferenceStore implements MarketingPreferenceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(p: MarketingPreference): Promise<boolean> {
    const { accountId, whatsappPhno, ...attributes } = p;
    const put = new PutCommand({
      TableName: this.tableName,
      Item: marketingPreference.item({ accountId, whatsappPhno, contactKey: p.contactKey, category: p.category }, { whatsapp_phno: whatsappPhno, ...attributes }),
      // Later wins; at the same time the greater value (`stop` over `resume`), so racing events end the same whatever the order.
      ConditionExpression: 'attribute_not_exists(pk) OR #at < :at OR (#at = :at AND #value < :value)',
      ExpressionAttributeNames: { '#at': 'at', '#value': 'value' },
      ExpressionAttributeValues: { ':at': p.at, ':value': p.value },
    });
    return (await writeIf(this.doc, put)).applied;
  }

  async forContacts(accountId: string, whatsappPhno: string, contactKeys: string[], category: string): Promise<Map<string, MarketingPreference>> {
    const keys = [...new Set(contactKeys)].map((contactKey) => marketingPreference.key({ accountId, whatsappPhno, contactKey, category }));
    const out = new Map<string, MarketingPreference>();
    for (const item of await batchGetAll(this.doc, this.tableName, keys)) {
      const { whatsapp_phno, ...kept } = marketingPreference.parse(item);
      out.set(kept.contactKey, { accountId, whatsappPhno: whatsapp_phno, ...kept });
    }
    return out;
  }
}
