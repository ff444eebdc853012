/** Fault injection on the transaction runner: the SDK is mocked only to make DynamoDB refuse. */
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gaugeQuota, ledgerEntry } from '../../functions/adapters/dynamo/entities/index.js';
import { REPLAY, type TxPart, transact } from '../../functions/adapters/dynamo/transact.js';
import { QuotaExceeded, ServiceBusy } from '../../functions/core/errors.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const mock = mockClient(doc);
afterEach(() => mock.reset());

const cancelled = (codes: string[], item?: Record<string, unknown>) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code, i) => ({ Code, ...(i === 1 && item ? { Item: item as never } : {}) })),
  });

const parts: TxPart[] = [
  { item: { Put: { TableName: 't', Item: ledgerEntry.key({ accountId: '1', idempotencyKey: 'k' }) } }, onConditionFailed: () => REPLAY },
  { item: { Update: { TableName: 't', Key: gaugeQuota.key({ accountId: '1', resource: 'users' }), UpdateExpression: 'SET used = used + :n' } }, onConditionFailed: (old?: Record<string, unknown>) => new QuotaExceeded('users', old?.limit as number, old?.used as number) },
];

describe('transact', () => {
  it('retries a transaction conflict and then commits', async () => {
    mock.on(TransactWriteCommand).rejectsOnce(cancelled(['None', 'TransactionConflict'])).rejectsOnce(cancelled(['TransactionConflict', 'None'])).resolves({});
    await expect(transact(doc, parts)).resolves.toBe('committed');
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('gives up on endless conflicts with a retryable 503, never a 500', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(['None', 'TransactionConflict']));
    // Its two dozen backoffs (seconds of real sleep) pass on a fake clock.
    vi.useFakeTimers();
    try {
      const outcome = transact(doc, parts).catch((error: unknown) => error);
      await vi.runAllTimersAsync();
      expect(await outcome).toBeInstanceOf(ServiceBusy);
    } finally {
      vi.useRealTimers();
    }
  });

  it('maps a failed condition to the part that owns it, with the item as it was (raw attribute values)', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed'], { limit: { N: '5' }, used: { N: '5' } }));
    const error = await transact(doc, parts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceeded);
    expect((error as QuotaExceeded).details).toEqual({ resource: 'users', limit: 5, used: 5 });
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('answers REPLAY when the ledger entry already exists', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'ConditionalCheckFailed']));
    await expect(transact(doc, parts)).resolves.toBe(REPLAY);
  });

  it('asks DynamoDB for the old item of every guarded part', async () => {
    mock.on(TransactWriteCommand).resolves({});
    await transact(doc, parts);
    const sent = mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(sent[1]!.Update!.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });
});
