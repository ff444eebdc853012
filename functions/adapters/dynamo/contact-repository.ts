/**
 * The inbox's contacts on DynamoDB: one per number and person, created or
 * refreshed by every inbound message; `lastSeenAt` (and the name with it) only
 * moves forward, `firstSeenAt` never moves. A click-to-WhatsApp referral on the
 * default number sets the `ctwa_*` attributes, only from a later click than
 * the one they hold (`ctwaReferralKey`).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionConditionFailed } from '../../core/backend-failures.js';
import type { ContactEdit, ContactListFilter, ContactSighting, ConversationRef, StoredContact } from '../../core/inbox-ports.js';
import type { AdReferral } from '../../core/message-content.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { conversationRename } from './conversation-repository.js';
import { queryPage } from './query.js';
import { transact } from './transact.js';
import { ifNotExists, updateExpression } from './update-expression.js';

/** Attempts of a name reset that raced a new profile name (its condition names the profile name it read). */
const RENAME_ATTEMPTS = 5;

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
    const update = updateExpression(
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
          profileName: sighting.name || undefined,
        },
      },
      // An older sighting (late delivery, redelivery) changes nothing: lastSeenAt and the name only move forward.
      { expression: 'attribute_not_exists(lastSeenAt) OR lastSeenAt < :seenAt', values: { ':seenAt': seenAt } },
    );
    // The profile's name is shown unless an agent named the contact: `customName` wins.
    const named = sighting.name
      ? {
          ...update,
          UpdateExpression: `${update.UpdateExpression}, #pname = if_not_exists(#pcustom, :pname)`,
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#pname': 'name', '#pcustom': 'customName' },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':pname': sighting.name },
        }
      : update;
    await writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, Key: entities.contact.key({ accountId, whatsappPhno, contactKey }), ...named }));
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

  /**
   * An agent's edit, all or nothing: the attributes merged (`null` removes a
   * key), `blocked`, and a name (`customName`, which every later profile name
   * leaves alone) with the conversation's `contactName` in one transaction.
   * `null` brings back the profile's name, conditioned on the profile name it
   * read (a new one racing it: read again). Undefined: no such contact.
   */
  async editContact(ref: ConversationRef, edit: ContactEdit): Promise<StoredContact | undefined> {
    const key = entities.contact.key({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey });
    for (let attempt = 1; ; attempt++) {
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      if (!Item) return undefined;
      const stored = entities.contact.parse(Item);
      const profile = stored.profileName ?? (stored.customName === undefined ? stored.name : undefined);
      const set: Record<string, unknown> = {};
      const remove: string[] = [];
      if (typeof edit.name === 'string') Object.assign(set, { customName: edit.name, name: edit.name, nameEditedAt: edit.at, profileName: profile === undefined ? undefined : ifNotExists(profile) });
      if (edit.name === null) {
        remove.push('customName', 'nameEditedAt');
        if (profile === undefined) remove.push('name');
        else set.name = profile;
      }
      if (edit.blocked !== undefined) set.blocked = edit.blocked;
      const changes = Object.values(set).some((value) => value !== undefined) || remove.length > 0;
      const update = withAttributes(changes ? updateExpression({ set, remove }, profileCondition(edit, stored.profileName)) : undefined, edit.attributes ?? {});
      if (!update) return toContact(stored);
      const contactUpdate = { TableName: this.tableName, Key: key, ...update };
      if (edit.name === undefined) {
        const outcome = await writeIf(this.doc, new UpdateCommand({ ...contactUpdate, ReturnValues: 'ALL_NEW' }));
        if (!outcome.applied) return undefined;
        return toContact(entities.contact.parse(outcome.attributes ?? {}));
      }
      const rename = conversationRename(this.tableName, ref, typeof edit.name === 'string' ? { custom: edit.name } : { ...(profile !== undefined ? { profile } : {}) });
      try {
        await transact(this.doc, [{ item: { Update: contactUpdate } }, { item: { Update: rename } }]);
      } catch (error) {
        // The contact went away, or (a reset) a new profile name came in between: read again.
        if (error instanceof TransactionConditionFailed && attempt < RENAME_ATTEMPTS) continue;
        throw error;
      }
      return this.getContact(ref);
    }
  }

  /** An account's contacts, or one number's (or only some numbers': an agent's), in key order. */
  async listContacts(accountId: string, filter: ContactListFilter, page: PageRequest): Promise<Page<StoredContact>> {
    const phnos = filter.whatsappPhnos;
    if (filter.whatsappPhno === undefined && phnos !== undefined && phnos.length === 0) return { items: [], nextCursor: null };
    if (filter.whatsappPhno !== undefined && phnos !== undefined && !phnos.includes(filter.whatsappPhno)) return { items: [], nextCursor: null };
    const whatsappPhno = filter.whatsappPhno ?? (phnos?.length === 1 ? phnos[0] : undefined);
    const several = whatsappPhno === undefined && phnos !== undefined && phnos.length > 1;
    const values = several ? Object.fromEntries(phnos.map((phno, i) => [`:fphno${i}`, phno])) : {};
    const { items, nextCursor } = await queryPage(
      this.doc,
      this.tableName,
      {
        entity: entities.contact,
        partition: entities.contact.partition({ accountId }),
        skPrefix: entities.contact.skPrefix({ whatsappPhno }),
        // Several numbers: filtered (a page may hold fewer than asked, as documented for lists with filters).
        ...(several ? { filter: { expression: `#fphno IN (${Object.keys(values).join(', ')})`, names: { '#fphno': 'whatsapp_phno' }, values } } : {}),
      },
      page,
    );
    return { items: items.map(toContact), nextCursor };
  }
}

/** The contact must exist; a reset of the name also needs the profile name it read to be still the stored one. */
function profileCondition(edit: ContactEdit, profileName: string | undefined) {
  if (edit.name !== null) return { expression: 'attribute_exists(pk)' };
  return profileName === undefined
    ? { expression: 'attribute_exists(pk) AND attribute_not_exists(#cprofile)', names: { '#cprofile': 'profileName' } }
    : { expression: 'attribute_exists(pk) AND #cprofile = :cprofile', names: { '#cprofile': 'profileName' }, values: { ':cprofile': profileName } };
}

/** Adds the attribute merge (`attributes.#key = :value`, `REMOVE attributes.#key` for null) to an update; undefined when nothing changes at all. */
function withAttributes(update: ReturnType<typeof updateExpression> | undefined, attributes: Record<string, unknown>) {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return update;
  const names: Record<string, string> = { '#mattrs': 'attributes' };
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  entries.forEach(([name, value], i) => {
    names[`#m${i}`] = name;
    if (value === null) removes.push(`#mattrs.#m${i}`);
    else {
      values[`:m${i}`] = value;
      sets.push(`#mattrs.#m${i} = :m${i}`);
    }
  });
  const base = update?.UpdateExpression ?? '';
  const setPart = /^SET (.*?)(?= REMOVE |$)/.exec(base)?.[1];
  const removePart = / REMOVE (.*)$/.exec(base)?.[1] ?? (base.startsWith('REMOVE ') ? base.slice(7) : undefined);
  const allSets = [setPart, ...sets].filter(Boolean);
  const allRemoves = [removePart, ...removes].filter(Boolean);
  return {
    UpdateExpression: [allSets.length ? `SET ${allSets.join(', ')}` : '', allRemoves.length ? `REMOVE ${allRemoves.join(', ')}` : ''].filter(Boolean).join(' '),
    ConditionExpression: update?.ConditionExpression ?? 'attribute_exists(pk)',
    ExpressionAttributeNames: { ...update?.ExpressionAttributeNames, ...names },
    ...(Object.keys({ ...update?.ExpressionAttributeValues, ...values }).length ? { ExpressionAttributeValues: { ...update?.ExpressionAttributeValues, ...values } } : {}),
  };
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
    // An explicit `blocked` (a contact edit) decides; otherwise the attribute `blocked` does, as before.
    ...((item.blocked ?? item.attributes.blocked === true) ? { blocked: true } : {}),
    ...(item.customName ? { customName: item.customName } : {}),
    ...(item.nameEditedAt ? { nameEditedAt: item.nameEditedAt } : {}),
    ...(item.profileName ? { profileName: item.profileName } : {}),
  };
}
