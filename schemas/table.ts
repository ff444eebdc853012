/**
 * The one DynamoDB table: its key schema, indexes and TTL attribute.
 *
 * The CDK construct (`lib/data-table.ts`), the local runtime (`local/`) and the
 * tests all build the table from this definition, so the three can never drift.
 *
 * What lives in it (every item, key and index in full: docs/data-model.md) is
 * defined once per item type, as entities over this definition, in
 * `functions/adapters/dynamo/entities/`: each names its key templates
 * (`A#{accountId}` / `NUMBER#{whatsappPhno}`), its index keys and the zod
 * schema of its attributes. Key strings are spelled there and nowhere else.
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
