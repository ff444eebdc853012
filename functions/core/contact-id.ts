/**
 * One way to key a WhatsApp user, so one person never becomes two contacts:
 * the canonical number when Meta gave one (`canonicalWaId`, the wire rules in
 * `schemas/whatsapp-ids.ts`), else Meta's business-scoped user id (BSUID) of
 * a user known only by username.
 */
import { canonicalWaId, isBusinessScopedUserId } from '../../schemas/whatsapp-ids.js';

export interface ContactIdentity {
  /** The canonical number, when Meta gave one. */
  waId?: string;
  /** Meta's business-scoped user id, when Meta gave one. */
  userId?: string;
  /** What keys the contact: the canonical number, else the BSUID. */
  contactKey: string;
}

/**
 * Who a message is from (or a status is for), from whatever Meta gave.
 * Undefined when there is neither a plausible number nor a well-formed BSUID.
 */
export function contactIdentity(input: { waId?: string | null; userId?: string | null }): ContactIdentity | undefined {
  const waId = input.waId ? canonicalWaId(input.waId) : undefined;
  const userId = input.userId && isBusinessScopedUserId(input.userId) ? input.userId : undefined;
  const contactKey = waId ?? userId;
  if (!contactKey) return undefined;
  return { contactKey, ...(waId ? { waId } : {}), ...(userId ? { userId } : {}) };
}
