/** The wire form of attribute values: what DynamoDB answers where the document client does not convert. */
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** Cancellation reasons (and a failed condition's `Item`) carry raw attribute values; the document client does not convert them. */
export function fromWire(item: Record<string, unknown>): Record<string, unknown> {
  const values = Object.values(item);
  const looksRaw = values.every((v) => v !== null && typeof v === 'object' && Object.keys(v as object).length === 1 && /^(S|N|B|BOOL|NULL|M|L|SS|NS|BS)$/.test(Object.keys(v as object)[0]!));
  return looksRaw ? unmarshall(item as Parameters<typeof unmarshall>[0]) : item;
}
