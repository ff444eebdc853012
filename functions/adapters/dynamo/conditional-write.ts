/**
 * The one way a single-item conditional write is run. A failed condition is
 * an answer, not an error: the write reports `applied: false`, with the item
 * as it was when the command asked for it (`ReturnValuesOnConditionCheckFailure`).
 * Conditions are written next to their writes; this only reads the outcome.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fromWire } from './wire.js';

export type WriteOutcome =
  | { applied: true; /** What `ReturnValues` asked for. */ attributes: Record<string, unknown> | undefined }
  | { applied: false; /** The item as it was, when asked for and when there was one. */ existing: Record<string, unknown> | undefined };

export async function writeIf(doc: DynamoDBDocumentClient, command: PutCommand | UpdateCommand | DeleteCommand): Promise<WriteOutcome> {
  try {
    const { Attributes } = await doc.send(command as UpdateCommand);
    return { applied: true, attributes: Attributes };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const item = error.Item as Record<string, unknown> | undefined;
    return { applied: false, existing: item && Object.keys(item).length > 0 ? fromWire(item) : undefined };
  }
}

/** By class, or by name when the error comes from another copy of the SDK (bundles, test doubles). */
function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof ConditionalCheckFailedException || (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
