/**
 * The portfolio messaging limit's items (docs/data-model.md, "Portfolio
 * messaging limit"; the rules are docs/quotas.md): one item per portfolio
 * with the units held, an hourly bucket per hour units were taken in, and a
 * reached item per user (TTL).
 */
import * as z from 'zod';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

/** `u_{phno}` on the portfolio item, `n_{phno}` on a bucket: a number's part of the units held. */
export const NUMBER_USED_PREFIX = 'u_';
export const BUCKET_NUMBER_PREFIX = 'n_';

const share = z.union([z.object({ percent: z.number() }), z.object({ reserved: z.number() })]);

/** The tier Meta reported (ordered by Meta's time), the units held, each number's part (`u_{phno}`) and share. */
export const portfolioLimit = defineEntity({
  type: 'portfolioLimit',
  key: { pk: ACCOUNT_PARTITION, sk: 'PORTFOLIO#{portfolioId}' },
  schema: z
    .object({
      portfolioId: z.string(),
      tier: z.string().nullish().transform((value) => value ?? null),
      tierAt: z.string().optional(),
      used: z.number().default(0),
      shares: z.record(z.string(), share).default({}),
      sharesVersion: z.number().default(0),
      updatedAt: z.string().optional(),
    })
    .catchall(z.unknown()),
});

/** The units taken in one hour (`n_{phno}` per number); released, with a TTL, once every send they paid for is 24 hours old. */
export const limitBucket = defineEntity({
  type: 'limitBucket',
  key: { pk: ACCOUNT_PARTITION, sk: 'LIMITBUCKET#{portfolioId}#{hour}' },
  schema: z
    .object({
      portfolioId: z.string(),
      hour: z.string(),
      count: z.number().default(0),
      released: z.boolean().default(false),
      releaseAt: z.string(),
      expiresAt: z.number().optional(),
    })
    .catchall(z.unknown()),
});

/** A user reached by the portfolio: where its unit is counted, until when (TTL). One partition per user: no hot key. */
export const reachedUser = defineEntity({
  type: 'reachedUser',
  key: { pk: 'REACHED#{accountId}#{portfolioId}#{waId}', sk: 'REACHED' },
  schema: z.object({ bucket: z.string(), owner: z.string(), expiresAt: z.number() }),
});
