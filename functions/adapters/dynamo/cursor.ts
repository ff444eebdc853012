import { ValidationFailed } from '../../core/errors.js';

/** Opaque pagination cursors: the query's `LastEvaluatedKey`, base64url JSON. */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationFailed([{ path: ['query', 'cursor'], message: 'Not a cursor this API returned.', code: 'invalid_format' }]);
}
