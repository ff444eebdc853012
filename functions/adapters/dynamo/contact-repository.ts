/**
 * The inbox's contacts on DynamoDB: one per number and person, created or
 * refreshed by every inbound message; `lastSeenAt` (and the name with it) only
 * moves forward, `firstSeenAt` never moves. A click-to-WhatsApp referral on the
 * default number sets the `ctwa_*` attributes, only from a later click than
 * the one they hold (`ctwaReferralKey`).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ContactSighting, ConversationRef, StoredContact } from '../../core/inbox-ports.js';
import type { AdReferral } from '../../core/message-content.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { queryPage } from './query.js';
import { ifNotExists, updateExpression } from './update-expression.js';

export class DynamoContactRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async contactKeyForUserId(accountId: string, whatsappPhno: string, userId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.contactUserId.key({ accountId, whatsappPhno, userId }), ConsistentRead: true }),
    );
    return Item ? entities.contactUserId.parse(Item).contactKey : undefined;
  }

  async recordContact(sighting: ContactSighting): Promise<void> {
    const { accountId, whatsappPhno, contactKey, identity, seenAt } = sighting;
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.contact.key({ accountId, whatsappPhno, contactKey }),
        ...updateExpression(
          {
            set: {
              type: entities.contact.type,
              accountId,
              whatsapp_phno: whatsappPhno,
              contactKey,
              firstSeenAt: ifNotExists(seenAt),
              lastSeenAt: seenAt,
              attributes: ifNotExists({ whatsapp_phno: whatsappPhno }),
              waId: identity.waId || undefined,
              userId: identity.userId || undefined,
              name: sighting.name || undefined,
            },
          },
          // An older sighting (late delivery, redelivery) changes nothing: lastSeenAt and the name only move forward.
          { expression: 'attribute_not_exists(lastSeenAt) OR lastSeenAt < :seenAt', values: { ':seenAt': seenAt } },
        ),
      }),
    );
    if (identity.userId && identity.waId) {
      // Idempotent: the same BSUID always names the same number's contact.
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: entities.contactUserId.item({ accountId, whatsappPhno, userId: identity.userId }, { contactKey }),
        }),
      );
    }
  }

  async attributeAdReferral(ref: ConversationRef, referral: AdReferral): Promise<void> {
    const attributes = ctwaAttributes(referral);
    const names: Record<string, string> = { '#attributes': 'attributes' };
    const values: Record<string, unknown> = { ':key': entities.lastMessageKey(referral.at, referral.wamid) };
    const sets = ['ctwaReferralKey = :key'];
    const removes: string[] = [];
    Object.entries(attributes).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      if (value === null) {
        // A field the newer click lacks must not keep the older click's value.
        removes.push(`#attributes.#a${i}`);
      } else {
        values[`:a${i}`] = value;
        sets.push(`#attributes.#a${i} = :a${i}`);
      }
    });
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.contact.key({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey }),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        // Meta's ads reporting credits the latest click: only a newer referral replaces the attributes; a redelivery changes nothing.
        ConditionExpression: 'attribute_exists(pk) AND attribute_exists(#attributes) AND (attribute_not_exists(ctwaReferralKey) OR ctwaReferralKey < :key)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async getContact(ref: ConversationRef): Promise<StoredContact | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: entities.contact.key({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey }),
        ConsistentRead: true,
      }),
    );
    return Item ? toContact(entities.contact.parse(Item)) : undefined;
  }

  /** An account's contacts, or one number's, in key order. */
  async listContacts(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredContact>> {
    const { items, nextCursor } = await queryPage(
      this.doc,
      this.tableName,
      { entity: entities.contact, partition: entities.contact.partition({ accountId }), skPrefix: entities.contact.skPrefix({ whatsappPhno: filter.whatsappPhno }) },
      page,
    );
    return { items: items.map(toContact), nextCursor };
  }
}

/** The contact attributes a referral sets (docs/data-model.md, "Team inbox"); `null`: removed. */
function ctwaAttributes(referral: AdReferral): Record<string, string | null> {
  return {
    ctwa_source_id: referral.sourceId,
    ctwa_source_type: referral.sourceType,
    ctwa_source_url: referral.sourceUrl,
    ctwa_headline: referral.headline,
    ctwa_clid: referral.ctwaClid,
    ctwa_at: referral.at,
  };
}

function toContact(item: ReturnType<typeof entities.contact.parse>): StoredContact {
  return {
    accountId: item.accountId,
    whatsappPhno: item.whatsapp_phno,
    contactKey: item.contactKey,
    ...(item.waId ? { waId: item.waId } : {}),
    ...(item.userId ? { userId: item.userId } : {}),
    ...(item.name ? { name: item.name } : {}),
    attributes: { ...item.attributes, whatsapp_phno: item.whatsapp_phno },
    firstSeenAt: item.firstSeenAt,
    lastSeenAt: item.lastSeenAt,
    ...(item.blocked === true || item.attributes.blocked === true ? { blocked: true } : {}),
  };
}
