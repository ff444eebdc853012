/**
 * API keys (docs/architecture.md, "Auth model"): what an owner creates for a
 * program to call the API with, and how a presented key is verified. The
 * API-key authorizer (`functions/authorizer/`) and the local runtime verify
 * through `verifyApiKey`; the API's routes ask `requireNumberForCaller` /
 * `numberFilterForCaller` which number a key may act on.
 *
 * - A key is `wak_<prefix>_<secret>`, the secret 32 random bytes. It is
 *   shown once; only its SHA-256 is stored. A fast hash is right here and
 *   bcrypt/scrypt are not: those slow down guessing a low-entropy password,
 *   while 256 random bits cannot be guessed at any speed, and the hash is
 *   computed on every API request.
 * - A key acts for its account with the `admin` role at most, on the
 *   routes that allow keys, and on the account's default number only (the
 *   `apiWebhooks` feature): any other number answers 403
 *   `FEATURE_UNAVAILABLE`. The default is read on every request, so after a
 *   replacement keys follow the new default at once.
 * - `lastUsedAt` is written at most once a minute per key: a use reads it
 *   and writes only when it is older, with a condition that makes
 *   concurrent uses write once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_LIMIT, API_KEY_TAG, type ApiKeyAuthorizerContext, type ApiKeyCreated, type ApiKeyView } from '../../schemas/api-keys.js';
import type { Role } from '../../schemas/common.js';
import { type AccountDeps, requireAccount } from './accounts.js';
import { NotFound, ServiceBusy } from './errors.js';
import { requireFeature } from './features.js';
import type { NumberRepository } from './numbers.js';
import type { Clock } from './ports.js';

// --- model ---------------------------------------------------------------------

/** The most a key may do: it never manages seats, keys, add-ons or credits. */
export const API_KEY_ROLE: Role = 'admin';

/** `lastUsedAt` is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PREFIX_LENGTH = 8;
const SECRET_BYTES = 32;
const KEY_PATTERN = new RegExp(`^${API_KEY_TAG}([a-z0-9]{${PREFIX_LENGTH}})_([A-Za-z0-9_-]{43})$`);

export interface StoredApiKey {
  /** `key_<prefix>`: the key's id and, with the prefix, how it is found from the key itself. */
  keyId: string;
  accountId: string;
  name: string;
  /** `wak_<prefix>`. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  keyHash: string;
  createdAt: string;
  lastUsedAt?: string;
}

/** A freshly made key: the value to show once and what is stored of it. */
export interface NewApiKey {
  key: string;
  keyId: string;
  prefix: string;
  keyHash: string;
}

/** Who is calling, as far as key rules go: a dashboard token or an API key. */
export interface Caller {
  via: 'jwt' | 'apiKey';
}

// --- ports ---------------------------------------------------------------------

export interface ApiKeyStore {
  /**
   * Stores the key and takes one of the account's `limit` slots, in one
   * transaction: `QuotaExceeded` (resource `apiKeys`) when they are all
   * taken; `prefixTaken` when another key already has this id.
   */
  create(key: StoredApiKey, limit: number): Promise<'created' | 'prefixTaken'>;
  /** The account's keys, newest first (at most `limit` of them). */
  list(accountId: string): Promise<StoredApiKey[]>;
  /** Deletes the key and frees its slot; `NotFound` when the account has no such key. */
  delete(accountId: string, keyId: string): Promise<void>;
  /** The key with this id, strongly consistent (a deleted key is gone at once). */
  get(keyId: string): Promise<StoredApiKey | undefined>;
  /** Sets `lastUsedAt = at` unless another use set it after `since`; whether it wrote. */
  touch(keyId: string, at: string, since: string): Promise<boolean>;
}

export interface ApiKeyDeps {
  apiKeys: ApiKeyStore;
  accounts: AccountDeps['accounts'];
  clock: Clock;
}

export interface ApiKeyVerifyDeps {
  apiKeys: Pick<ApiKeyStore, 'get' | 'touch'>;
  clock: Clock;
  /** Told when recording `lastUsedAt` failed: the request is still authorized (the key is valid). */
  onTouchFailed?: (error: unknown) => void;
}

/** What the number checks read: the account's current default. */
export interface KeyNumberDeps {
  numbers: Pick<NumberRepository, 'defaultOf'>;
}

// --- the key itself ----------------------------------------------------------------

/** A new random key, its id, prefix and hash. */
export function generateApiKey(): NewApiKey {
  const chars: string[] = [];
  // Rejection sampling: 252 = 7 × 36, so every character is equally likely.
  while (chars.length < PREFIX_LENGTH) {
    for (const byte of randomBytes(PREFIX_LENGTH)) if (byte < 252 && chars.length < PREFIX_LENGTH) chars.push(PREFIX_ALPHABET[byte % 36]!);
  }
  const id = chars.join('');
  const key = `${API_KEY_TAG}${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, keyId: `key_${id}`, prefix: `${API_KEY_TAG}${id}`, keyHash: hashApiKey(key) };
}

/** The key's id, when the value has the shape of a key; `undefined` for anything else. */
export function parseApiKey(value: string | undefined): { keyId: string; prefix: string } | undefined {
  const match = value === undefined ? null : KEY_PATTERN.exec(value.trim());
  return match ? { keyId: `key_${match[1]}`, prefix: `${API_KEY_TAG}${match[1]}` } : undefined;
}

/** SHA-256 of the key, hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

// --- use cases ----------------------------------------------------------------------

/** Creates a key (owners; the route checks): the answer is the only time the key is shown. */
export async function createApiKey(deps: ApiKeyDeps, accountId: string, name: string): Promise<ApiKeyCreated> {
  await requireAccount(deps, accountId);
  const createdAt = deps.clock.now().toISOString();
  // 36^8 ids: a collision is rare enough that a few draws always find a free one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const made = generateApiKey();
    const stored: StoredApiKey = { keyId: made.keyId, accountId, name, prefix: made.prefix, keyHash: made.keyHash, createdAt };
    if ((await deps.apiKeys.create(stored, API_KEY_LIMIT)) === 'created') {
      return { id: made.keyId, name, key: made.key, prefix: made.prefix, createdAt };
    }
  }
  throw new ServiceBusy('Could not find a free key id; retry.');
}

export async function listApiKeys(deps: ApiKeyDeps, accountId: string): Promise<ApiKeyView[]> {
  await requireAccount(deps, accountId);
  return (await deps.apiKeys.list(accountId)).map(apiKeyViewOf);
}

/** Deletes a key: the next request made with it is refused. */
export async function deleteApiKey(deps: ApiKeyDeps, accountId: string, keyId: string): Promise<void> {
  await requireAccount(deps, accountId);
  await deps.apiKeys.delete(accountId, keyId);
}

export function apiKeyViewOf(key: StoredApiKey): ApiKeyView {
  return { id: key.keyId, name: key.name, prefix: key.prefix, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt ?? null };
}

/**
 * Verifies a presented key: the authorizer's context when it is a key we
 * issued and still hold, `undefined` otherwise. Records the use (at most
 * once a minute per key).
 */
export async function verifyApiKey(deps: ApiKeyVerifyDeps, presented: string | undefined): Promise<ApiKeyAuthorizerContext | undefined> {
  const parsed = parseApiKey(presented);
  if (!parsed) return undefined;
  const stored = await deps.apiKeys.get(parsed.keyId);
  if (!stored || !sameHash(stored.keyHash, hashApiKey(presented!.trim()))) return undefined;
  const now = deps.clock.now();
  const since = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
  if (stored.lastUsedAt === undefined || stored.lastUsedAt < since) {
    try {
      await deps.apiKeys.touch(stored.keyId, now.toISOString(), since);
    } catch (error) {
      // Bookkeeping only: a valid key is not refused because its last-used time could not be written.
      deps.onTouchFailed?.(error);
    }
  }
  return { accountId: stored.accountId, role: API_KEY_ROLE, keyId: stored.keyId, via: 'apiKey' };
}

function sameHash(storedHex: string, presentedHex: string): boolean {
  const a = Buffer.from(storedHex, 'hex');
  const b = Buffer.from(presentedHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

// --- what a key may act on ------------------------------------------------------------

/**
 * A key acts on the account's default number only: any other number answers
 * 403 `FEATURE_UNAVAILABLE` (`apiWebhooks`, naming the number). Dashboard
 * tokens pass. The default is read per request, so a replacement applies at once.
 */
export async function requireNumberForCaller(deps: KeyNumberDeps, caller: Caller, accountId: string, whatsappPhno: string): Promise<void> {
  if (caller.via !== 'apiKey') return;
  const defaultPhno = await deps.numbers.defaultOf(accountId);
  requireFeature({ whatsapp_phno: whatsappPhno, isDefault: whatsappPhno === defaultPhno }, 'apiWebhooks');
}

/**
 * The number a listing is narrowed to: for a token, the one asked for (or
 * none: every number); for a key, the default number (asking for another
 * answers 403 `FEATURE_UNAVAILABLE`).
 */
export async function numberFilterForCaller(deps: KeyNumberDeps, caller: Caller, accountId: string, requested: string | undefined): Promise<string | undefined> {
  if (caller.via !== 'apiKey') return requested;
  if (requested !== undefined) {
    await requireNumberForCaller(deps, caller, accountId, requested);
    return requested;
  }
  const defaultPhno = await deps.numbers.defaultOf(accountId);
  if (!defaultPhno) throw new NotFound('The default number');
  return defaultPhno;
}
