/**
 * Shared field schemas: one normalisation of phone numbers, money, ids and
 * pagination, used by every API body, bus event and webhook schema.
 */
import * as z from 'zod';

/**
 * `whatsapp_phno`: a phone number as digits only, E.164 without `+`
 * (`+1 555-000-1234` → `15550001234`). Spaces, dashes, dots, parentheses and
 * a leading `+` or `00` are accepted and removed; anything else is refused.
 */
export function normalizePhno(input: string): string | undefined {
  const trimmed = input.trim();
  if (!/^[+\d\s().-]+$/.test(trimmed)) return undefined;
  let digits = trimmed.replace(/\D/g, '');
  if (!trimmed.startsWith('+') && digits.startsWith('00')) digits = digits.slice(2);
  // E.164: at most 15 digits, no leading 0 (a country code never starts with 0).
  return /^[1-9]\d{6,14}$/.test(digits) ? digits : undefined;
}

export const whatsappPhno = z
  .string()
  .transform((value, ctx) => {
    const phno = normalizePhno(value);
    if (!phno) {
      ctx.addIssue({ code: 'custom', message: 'Must be a phone number in international format (E.164), e.g. +15550001234.' });
      return z.NEVER;
    }
    return phno;
  })
  .meta({ description: 'Phone number, digits only in E.164 without +; formatted input is normalised.', example: '15550001234' });

/** Integer micros: 1 currency unit = 1,000,000. Never a float. */
export const micros = z.int().min(0).max(Number.MAX_SAFE_INTEGER).meta({ description: 'Money in integer micros (1 unit = 1,000,000).' });
export const positiveMicros = z.int().min(1).max(Number.MAX_SAFE_INTEGER);

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});

export const ROLES = ['support', 'owner', 'admin', 'agent'] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;

/** Ids this API mints (`acc_…`, `usr_…`, `team_…`): no key separators can hide in them. */
export const entityId = z.string().regex(/^[a-z]+_[a-z0-9]{6,40}$/, 'Not an id this API issued.');

/** An IANA time zone (`America/Sao_Paulo`), as `Intl` knows it. */
export const ianaTimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }, 'Not an IANA time zone (e.g. America/Sao_Paulo).');
