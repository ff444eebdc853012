/**
 * The one DynamoDB table: its key schema, indexes and TTL attribute.
 *
 * The CDK construct (`lib/data-table.ts`), the local runtime (`local/`) and the
 * tests all build the table from this definition, so the three can never drift.
 *
 * Item shapes (see DESIGN.md §4 and README "Data model"):
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
 *
 * Later capabilities (numbers, routes, contacts, conversations, messages,
 * broadcasts, templates, automations) add their rows in the same style.
 */

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
} as const;
