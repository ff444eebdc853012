/**
 * What every dashboard API answer shares (docs/openapi.json): the error body
 * and the page of a list. The bodies, queries and answers of each capability
 * are in their own file (`accounts.ts`, `numbers.ts`, `inbox.ts`,
 * `templates.ts`, `broadcasts.ts`). The router validates with them, the
 * OpenAPI document is generated from them, and the types come from `z.infer`:
 * there is no hand-written twin of any shape.
 */
import * as z from 'zod';

export const errorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string() }),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
