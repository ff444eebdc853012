/**
 * The one DynamoDB table: its key schema, indexes and TTL attribute.
 *
 * The CDK construct (`lib/data-table.ts`), the local runtime (`local/`) and the
 * tests all build the table from this definition, so the three can never drift.
 *
 * Item shapes (every item, key and index in full: docs/data-model.md):
 *
 * | item            | pk                    | sk                                  | gsi1 (pk / sk)                         | gsi2 (pk / sk)                          |
 * |-----------------|-----------------------|-------------------------------------|----------------------------------------|-----------------------------------------|
 * | account         | `A#{id}`              | `ACCOUNT`                           | `ACCOUNTS` / `{createdAt}#{id}`        |                                         |
 * | gauge quota     | `A#{id}`              | `QUOTA#{users|teams|additionalNumbers}` |                                    |                                         |
 * | period quota    | `A#{id}`              | `QUOTA#{resource}#{period}`         |                                        |                                         |
 * | credit pool     | `A#{id}`              | `CREDITS`                           |                                        |                                         |
 * | ledger entry    | `A#{id}`              | `LEDGER#{idempotencyKey}`           | `A#{id}#LEDGER#{resource}` / `{at}#{key}` | `A#{id}#LEDGER#{resource}#{phno}` / `{at}#{key}` |
 * | creation key    | `ACCOUNTKEY#{key}`    | `ACCOUNTKEY`                        |                                        |                                         |
 * | reservation     | `A#{id}`              | `RESERVATION#{reservationId}`       |                                        |                                         |
 * | user            | `A#{id}`              | `USER#{userId}`                     |                                        |                                         |
 * | user email      | `A#{id}`              | `USEREMAIL#{email}`                 |                                        |                                         |
 * | team            | `A#{id}`              | `TEAM#{teamId}`                     |                                        |                                         |
 * | API idempotency | `IDEM#{accountId|-}`  | `{idempotencyKey}`                  |                                        |                                         |
 * | number          | `A#{id}`              | `NUMBER#{phno}`                     |                                        |                                         |
 * | number claim    | `PHONE#{phno}`        | `CLAIM`                             |                                        |                                         |
 * | PNID route      | `PNID#{phoneNumberId}`| `ROUTE`                             |                                        |                                         |
 * | WABA route      | `WABA#{wabaId}`       | `ROUTE#{phno}`                      |                                        |                                         |
 * | default marker  | `A#{id}`              | `DEFAULT_NUMBER`                    |                                        |                                         |
 * | merge progress  | `A#{sourceId}`        | `MERGE`                             |                                        |                                         |
 * | contact         | `A#{id}`              | `CONTACT#{phno}#{contactKey}`       |                                        |                                         |
 * | contact BSUID   | `A#{id}`              | `CONTACTUSER#{phno}#{userId}`       |                                        |                                         |
 * | conversation    | `A#{id}`              | `CONV#{phno}#{contactKey}`          | `A#{id}#CONV` / `{lastMessageAt}#{phno}#{contactKey}` | `A#{id}#CONV#{phno}` / same      |
 * | message         | `C#{id}#{phno}#{contactKey}` | `M#{timestamp}#{wamid}`      |                                        |                                         |
 * | wamid pointer   | `WAMID#{phoneNumberId}#{wamid}` | `WAMID`                   |                                        |                                         |
 * | consumer dedupe | `DEDUP#{phoneNumberId}#{eventId}` | `{consumer}` (`inbox`)  |                                        |                                         |
 * | template        | `A#{id}`              | `TEMPLATE#{name}#{language}`        |                                        |                                         |
 * | number spend    | `A#{id}`              | `SPEND#{period}#{phno}`             |                                        |                                         |
 * | broadcast       | `A#{id}`              | `BROADCAST#{broadcastId}`           | `A#{id}#BROADCAST` / `{createdAt}#{broadcastId}` | `A#{id}#BROADCAST#{phno}` / same |
 * | broadcast chunk | `BRD#{broadcastId}`   | `CHUNK#{nnnnn}`                     |                                        |                                         |
 * | chunk counters  | `BRD#{broadcastId}`   | `COUNT#{nnnnn}`                     |                                        |                                         |
 * | recipient state | `BRD#{broadcastId}`   | `R#{waId}`                          |                                        |                                         |
 * | broadcast wamid | `BRWAMID#{wamid}`     | `BRWAMID`                           |                                        |                                         |
 *
 * `contactKey` is the contact's canonical wa_id (`functions/core/contact-id.ts`),
 * or Meta's business-scoped user id for a username-only user. The wamid pointer
 * names the message item of an outbound wamid (`messagePk`/`messageSk`), so a
 * status finds its message from the wamid alone; whichever of the send or its
 * first status arrives first creates both. Dedupe records expire (`expiresAt`).
 *
 * Templates hold a status per number (`numbers.{phno}`) and per WABA
 * (`wabas.{wabaId}`). A broadcast's recipients live in chunk items (never on
 * the bus); each chunk has its own counter item (sent, delivered, read,
 * failed, replied, credits spent), summed on read, so status updates of one
 * broadcast never queue on one hot item. A recipient's state item is written
 * before its send; the wamid pointer leads a status or a reply back to it.
 * The spend item counts one number's credits per billing period (its cap).
 *
 * Route rows (both kinds) hold `accountId, whatsapp_phno, phoneNumberId, wabaId,
 * isDefault, name`; the webhook reads them (cached per container) and never
 * writes them. The webhook keeps a number item's channel status current
 * (`status, messagingLimitTier, qualityRating, lastChannelEvent`, each ordered
 * by its own `{attribute}At`, Meta's time), updating existing number items only.
 *
 * Later capabilities (numbers, routes, contacts, conversations, messages,
 * broadcasts, templates, automations) add their rows in the same style.
 */

/**
 * Sort-key prefixes of the account-partition items a merge copies into the
 * target: contacts (and their BSUID rows), conversations (their message
 * partitions follow), templates, automations, and the moved numbers' spend
 * against their credit caps; keys embedding the account id are rewritten.
 */
export const MERGED_ITEM_PREFIXES = ['CONTACT#', 'CONTACTUSER#', 'CONV#', 'TEMPLATE#', 'AUTO#', 'SPEND#'] as const;

/** Attribute holding the epoch-seconds expiry that DynamoDB's TTL deletes on. */
export const TTL_ATTRIBUTE = 'expiresAt';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  readonly timeToLiveAttribute: string;
}

export const TABLE: TableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
  timeToLiveAttribute: TTL_ATTRIBUTE,
};

/**
 * The table in the shape of DynamoDB's `CreateTable` request (every key is a
 * string; every index projects all attributes). Used by the local runtime and
 * the tests; the CDK construct maps the same definition to `TableV2`.
 */
export function createTableInput(tableName: string) {
  const keyAttributes = new Set<string>([TABLE.partitionKey, TABLE.sortKey]);
  for (const gsi of TABLE.globalSecondaryIndexes) {
    keyAttributes.add(gsi.partitionKey);
    keyAttributes.add(gsi.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE.globalSecondaryIndexes.map((gsi) => ({
      IndexName: gsi.indexName,
      KeySchema: [
        { AttributeName: gsi.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: gsi.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

/** Key builders: the one place key strings are spelled. */
export const keys = {
  account: (accountId: string) => ({ pk: `A#${accountId}`, sk: 'ACCOUNT' }),
  accountsIndex: () => 'ACCOUNTS',
  gaugeQuota: (accountId: string, resource: string) => ({ pk: `A#${accountId}`, sk: `QUOTA#${resource}` }),
  periodQuota: (accountId: string, resource: string, period: string) => ({
    pk: `A#${accountId}`,
    sk: `QUOTA#${resource}#${period}`,
  }),
  credits: (accountId: string) => ({ pk: `A#${accountId}`, sk: 'CREDITS' }),
  ledger: (accountId: string, idempotencyKey: string) => ({ pk: `A#${accountId}`, sk: `LEDGER#${idempotencyKey}` }),
  /** gsi1: an account's ledger of one resource, newest first by `{at}#{key}`. */
  ledgerByResource: (accountId: string, resource: string) => `A#${accountId}#LEDGER#${resource}`,
  /** gsi2: the same, narrowed to one number. */
  ledgerByResourceAndNumber: (accountId: string, resource: string, whatsappPhno: string) =>
    `A#${accountId}#LEDGER#${resource}#${whatsappPhno}`,
  /** Makes account creation idempotent on the request's key. */
  accountCreation: (idempotencyKey: string) => ({ pk: `ACCOUNTKEY#${idempotencyKey}`, sk: 'ACCOUNTKEY' }),
  reservation: (accountId: string, reservationId: string) => ({
    pk: `A#${accountId}`,
    sk: `RESERVATION#${reservationId}`,
  }),
  user: (accountId: string, userId: string) => ({ pk: `A#${accountId}`, sk: `USER#${userId}` }),
  userEmail: (accountId: string, email: string) => ({ pk: `A#${accountId}`, sk: `USEREMAIL#${email}` }),
  team: (accountId: string, teamId: string) => ({ pk: `A#${accountId}`, sk: `TEAM#${teamId}` }),
  apiIdempotency: (scope: string, idempotencyKey: string) => ({ pk: `IDEM#${scope}`, sk: idempotencyKey }),
  /** A connected number of an account: name, phoneNumberId, wabaId, isDefault, channel status. */
  number: (accountId: string, whatsappPhno: string) => ({ pk: `A#${accountId}`, sk: `NUMBER#${whatsappPhno}` }),
  /** Platform-wide claim: `attribute_not_exists` on it makes a number connectable once, anywhere. */
  numberClaim: (whatsappPhno: string) => ({ pk: `PHONE#${whatsappPhno}`, sk: 'CLAIM' }),
  /** The webhook's one lookup for `messages` changes: phone_number_id → {accountId, whatsapp_phno, isDefault, wabaId}. */
  phoneNumberIdRoute: (phoneNumberId: string) => ({ pk: `PNID#${phoneNumberId}`, sk: 'ROUTE' }),
  /** WABA-level changes (template status, quality, account updates) carry no phone_number_id: one row per number of the WABA. */
  wabaRoute: (wabaId: string, whatsappPhno: string) => ({ pk: `WABA#${wabaId}`, sk: `ROUTE#${whatsappPhno}` }),
  wabaRoutes: (wabaId: string) => `WABA#${wabaId}`,
  /** Sort-key prefix of a WABA's route rows (Query `begins_with`). */
  wabaRoutesPrefix: () => 'ROUTE#',
  /** Sort-key prefix of an account's number items (Query with `begins_with`). */
  numbersPrefix: () => 'NUMBER#',
  /** Holds the default number's `whatsapp_phno`; `attribute_not_exists` on it makes "the first number is the default" race-safe. */
  defaultNumber: (accountId: string) => ({ pk: `A#${accountId}`, sk: 'DEFAULT_NUMBER' }),
  /** A merge's progress, on the source: which target, which numbers, what moved; makes the merge re-runnable. */
  mergeProgress: (sourceAccountId: string) => ({ pk: `A#${sourceAccountId}`, sk: 'MERGE' }),
  /** A conversation's messages partition, from its item's sort key: `CONV#{phno}#{contact}` → `C#{id}#{phno}#{contact}`. */
  messagesOfConversation: (accountId: string, conversationSk: string) => `C#${accountId}#${conversationSk.replace(/^CONV#/, '')}`,
  /** A contact of one number: the same person writing to two numbers is two contacts. */
  contact: (accountId: string, whatsappPhno: string, contactKey: string) => ({ pk: `A#${accountId}`, sk: `CONTACT#${whatsappPhno}#${contactKey}` }),
  /** Sort-key prefix of an account's contacts, or of one number's. */
  contactsPrefix: (whatsappPhno?: string) => (whatsappPhno ? `CONTACT#${whatsappPhno}#` : 'CONTACT#'),
  /** A BSUID seen next to a number: a later username-only message from it finds the same contact. */
  contactUserId: (accountId: string, whatsappPhno: string, userId: string) => ({ pk: `A#${accountId}`, sk: `CONTACTUSER#${whatsappPhno}#${userId}` }),
  conversation: (accountId: string, whatsappPhno: string, contactKey: string) => ({ pk: `A#${accountId}`, sk: `CONV#${whatsappPhno}#${contactKey}` }),
  /** gsi1: every conversation of an account, newest first by `conversationOrder`. */
  conversationsOfAccount: (accountId: string) => `A#${accountId}#CONV`,
  /** gsi2: one number's conversations, same order. */
  conversationsOfNumber: (accountId: string, whatsappPhno: string) => `A#${accountId}#CONV#${whatsappPhno}`,
  conversationOrder: (lastMessageAt: string, whatsappPhno: string, contactKey: string) => `${lastMessageAt}#${whatsappPhno}#${contactKey}`,
  /** One conversation's messages, oldest first by sort key. */
  messages: (accountId: string, whatsappPhno: string, contactKey: string) => `C#${accountId}#${whatsappPhno}#${contactKey}`,
  message: (accountId: string, whatsappPhno: string, contactKey: string, timestamp: string, wamid: string) => ({
    pk: `C#${accountId}#${whatsappPhno}#${contactKey}`,
    sk: `M#${timestamp}#${wamid}`,
  }),
  messagesPrefix: () => 'M#',
  /** Where the message item of an outbound wamid lives. */
  wamidPointer: (phoneNumberId: string, wamid: string) => ({ pk: `WAMID#${phoneNumberId}#${wamid}`, sk: 'WAMID' }),
  /** An event a consumer has handled, scoped by number: each consumer dedupes under its own sort key. */
  consumerDedupe: (phoneNumberId: string, eventId: string, consumer: string) => ({ pk: `DEDUP#${phoneNumberId}#${eventId}`, sk: consumer }),
  /** A template of the account, with its status per number and per WABA. */
  template: (accountId: string, name: string, language: string) => ({ pk: `A#${accountId}`, sk: `TEMPLATE#${name}#${language}` }),
  templatesPrefix: () => 'TEMPLATE#',
  /** Credits one number spent in a billing period: its cap is checked against this, in the debit's transaction. */
  numberSpend: (accountId: string, period: string, whatsappPhno: string) => ({ pk: `A#${accountId}`, sk: `SPEND#${period}#${whatsappPhno}` }),
  /** Sort-key prefix of every number's spend in one period. */
  numberSpendPrefix: (period: string) => `SPEND#${period}#`,
  broadcast: (accountId: string, broadcastId: string) => ({ pk: `A#${accountId}`, sk: `BROADCAST#${broadcastId}` }),
  /** gsi1: every broadcast of an account, newest first by `{createdAt}#{broadcastId}`. */
  broadcastsOfAccount: (accountId: string) => `A#${accountId}#BROADCAST`,
  /** gsi2: one number's broadcasts, same order. */
  broadcastsOfNumber: (accountId: string, whatsappPhno: string) => `A#${accountId}#BROADCAST#${whatsappPhno}`,
  /** The partition of one broadcast's chunks, chunk counters and recipient states. */
  broadcastPartition: (broadcastId: string) => `BRD#${broadcastId}`,
  broadcastChunk: (broadcastId: string, chunk: number) => ({ pk: `BRD#${broadcastId}`, sk: `CHUNK#${String(chunk).padStart(5, '0')}` }),
  broadcastCounter: (broadcastId: string, chunk: number) => ({ pk: `BRD#${broadcastId}`, sk: `COUNT#${String(chunk).padStart(5, '0')}` }),
  broadcastCountersPrefix: () => 'COUNT#',
  broadcastRecipient: (broadcastId: string, waId: string) => ({ pk: `BRD#${broadcastId}`, sk: `R#${waId}` }),
  /** Leads a status or a reply (`context.id`) from a broadcast message's wamid to its broadcast and recipient. */
  broadcastWamid: (wamid: string) => ({ pk: `BRWAMID#${wamid}`, sk: 'BRWAMID' }),
} as const;
