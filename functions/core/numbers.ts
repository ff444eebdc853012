/**
 * Connected WhatsApp numbers (docs/architecture.md; docs/quotas.md, rule 5): the default number
 * plus up to 15 additional ones, each additional number holding one number
 * add-on. A number is connectable once, platform-wide: the repository writes
 * its claim, its routes and the quota in one transaction, so every rule here
 * holds under races. Operators remove numbers (merges: `merge.ts`).
 *
 * The use cases read the state they decide on (which number is the default,
 * which numbers exist), then ask the repository for ONE conditional write that
 * holds only if that state is unchanged; when it changed meanwhile the
 * repository says `StaleNumberState` and the use case decides again.
 */
import type { NumberView } from '../../schemas/numbers.js';
import { type AccountDeps, requireAccount } from './accounts.js';
import { Conflict, NotFound, NumberAlreadyConnected, ServiceBusy } from './errors.js';
import { StaleNumberState } from './backend-failures.js';
import { featuresOf, requireFeature } from './features.js';
import { type MessagingLimitStore, type Share, portfolioOf } from './messaging-limit.js';

// --- model ---------------------------------------------------------------------

/** Channel status as Meta reports it; the ingestion capability keeps it current. */
export interface ChannelStatus {
  status: string;
  messagingLimitTier: string | null;
  qualityRating: string | null;
}

export interface ConnectedNumber extends ChannelStatus {
  accountId: string;
  /** Digits only, E.164 without `+` (`normalizePhno`). */
  whatsapp_phno: string;
  name: string;
  phoneNumberId: string;
  wabaId: string;
  isDefault: boolean;
  /** Optional cap inside the shared credit pool (docs/quotas.md, rule 8); `null` = no cap. */
  creditCapMicros: number | null;
  /** Meta catalog bound to the default number. */
  catalogId?: string;
  /** The Meta business portfolio of its WABA, when known; absent: the account's portfolio (`portfolioOf`). */
  portfolioId?: string;
  connectedAt: string;
  updatedAt: string;
}

/** The result of Meta's Embedded Signup, already normalised. */
export interface NumberToConnect {
  name: string;
  whatsapp_phno: string;
  phoneNumberId: string;
  wabaId: string;
  portfolioId?: string;
}

export interface NumberPatch {
  name?: string;
  creditCapMicros?: number | null;
  /** The number's share of its portfolio's messaging limit; `null` clears it. */
  messagingLimitShare?: Share | null;
}

/** What a freshly connected number reports until Meta's webhooks tell more. */
export const INITIAL_CHANNEL_STATUS: ChannelStatus = { status: 'CONNECTED', messagingLimitTier: null, qualityRating: null };

// --- ports ---------------------------------------------------------------------

/** Numbers on the table; every write is one transaction with the claim, the routes and the quota. */
export interface NumberRepository {
  /** The account's numbers (Query on its partition). */
  list(accountId: string): Promise<ConnectedNumber[]>;
  get(accountId: string, whatsappPhno: string): Promise<ConnectedNumber | undefined>;
  /** The default number's `whatsapp_phno`, from the account's default marker. */
  defaultOf(accountId: string): Promise<string | undefined>;
  /** Connects the first number as the default; `StaleNumberState` if a default appeared meanwhile. */
  connectDefault(number: ConnectedNumber): Promise<void>;
  /** Connects an additional number taking one add-on slot; `StaleNumberState` if there is no default any more. */
  connectAdditional(number: ConnectedNumber, idempotencyKey: string): Promise<{ replayed: boolean; whatsappPhno: string }>;
  /** Disconnects `current` (the default) and connects `next` as the default; `StaleNumberState` if `current` is no longer the default. */
  replaceDefault(current: ConnectedNumber, next: ConnectedNumber): Promise<void>;
  /** Disconnects an additional number and gives its slot back. */
  removeAdditional(number: ConnectedNumber, idempotencyKey: string): Promise<void>;
  /** Disconnects the default when it is the account's only number. */
  removeOnlyDefault(number: ConnectedNumber): Promise<void>;
  /** Disconnects the default and makes `promoted` (an additional number) the default, freeing its slot. */
  removeDefaultPromoting(number: ConnectedNumber, promoted: ConnectedNumber, idempotencyKey: string): Promise<void>;
  /** Renames (routes follow) and/or sets the credit cap. */
  update(number: ConnectedNumber, patch: NumberPatch, at: string): Promise<ConnectedNumber>;
  /** Binds a catalog; refused if the number stopped being the default meanwhile. */
  setCatalog(number: ConnectedNumber, catalogId: string, at: string): Promise<void>;
}

export interface NumberDeps extends AccountDeps {
  numbers: NumberRepository;
  /** The portfolios' messaging limits: each number's share is kept there, beside the units it is checked against. */
  messagingLimits: Pick<MessagingLimitStore, 'portfolio' | 'setShare' | 'liveBuckets'>;
}

// --- views ---------------------------------------------------------------------

export function toNumberView(number: ConnectedNumber, share: Share | null = null): NumberView {
  return {
    whatsapp_phno: number.whatsapp_phno,
    name: number.name,
    isDefault: number.isDefault,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    status: number.status,
    messagingLimitTier: number.messagingLimitTier,
    qualityRating: number.qualityRating,
    creditCapMicros: number.creditCapMicros,
    portfolioId: portfolioOf(number),
    messagingLimitShare: share,
    features: featuresOf(number),
    connectedAt: number.connectedAt,
  };
}

/** Default first, then in the order they were connected. */
export function byRole(a: ConnectedNumber, b: ConnectedNumber): number {
  if (a.isDefault !== b.isDefault) return a.isDefault ? -1 : 1;
  return a.connectedAt.localeCompare(b.connectedAt) || a.whatsapp_phno.localeCompare(b.whatsapp_phno);
}

// --- use cases -----------------------------------------------------------------

const MAX_DECISIONS = 8;

/** Decides and writes again while the state moves under us; contention that outlasts this is a 503 to retry. */
export async function decideAgainWhileStale<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof StaleNumberState)) throw error;
      if (attempt >= MAX_DECISIONS) throw new ServiceBusy();
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
}

export async function listNumbers(deps: Pick<NumberDeps, 'accounts' | 'numbers' | 'messagingLimits'>, accountId: string): Promise<NumberView[]> {
  await requireAccount(deps, accountId);
  const numbers = await deps.numbers.list(accountId);
  const portfolios = new Map(
    await Promise.all(
      [...new Set(numbers.map(portfolioOf))].map(async (id) => [id, (await deps.messagingLimits.portfolio(accountId, id))?.shares ?? {}] as const),
    ),
  );
  return numbers.sort(byRole).map((number) => toNumberView(number, portfolios.get(portfolioOf(number))?.[number.whatsapp_phno] ?? null));
}

function newNumber(accountId: string, input: NumberToConnect, isDefault: boolean, at: string): ConnectedNumber {
  return {
    accountId,
    whatsapp_phno: input.whatsapp_phno,
    name: input.name,
    phoneNumberId: input.phoneNumberId,
    wabaId: input.wabaId,
    isDefault,
    ...INITIAL_CHANNEL_STATUS,
    creditCapMicros: null,
    ...(input.portfolioId ? { portfolioId: input.portfolioId } : {}),
    connectedAt: at,
    updatedAt: at,
  };
}

/**
 * Connects a number: the account's first becomes the default; every other one
 * is additional and takes one number add-on (never more than 15).
 */
export async function connectNumber(
  deps: Pick<NumberDeps, 'accounts' | 'numbers' | 'clock'>,
  accountId: string,
  input: NumberToConnect,
  idempotencyKey: string,
): Promise<NumberView> {
  await requireAccount(deps, accountId);
  return decideAgainWhileStale(async () => {
    const at = deps.clock.now().toISOString();
    const currentDefault = await deps.numbers.defaultOf(accountId);
    if (!currentDefault) {
      const number = newNumber(accountId, input, true, at);
      await deps.numbers.connectDefault(number);
      return toNumberView(number);
    }
    const number = newNumber(accountId, input, false, at);
    const outcome = await deps.numbers.connectAdditional(number, idempotencyKey);
    if (!outcome.replayed) return toNumberView(number);
    // The same request was applied before: answer with what it connected.
    const first = await deps.numbers.get(accountId, outcome.whatsappPhno);
    if (!first) throw new NotFound(`The number ${outcome.whatsappPhno}`);
    return toNumberView(first);
  });
}

/**
 * "Change account/number": the default is replaced by a number connected
 * nowhere; the old default is disconnected and freed platform-wide,
 * additional numbers are untouched. Without a default yet, this connects the
 * first number (and says so with `created`).
 */
export async function replaceDefaultNumber(
  deps: Pick<NumberDeps, 'accounts' | 'numbers' | 'clock'>,
  accountId: string,
  input: NumberToConnect,
  idempotencyKey: string,
): Promise<{ number: NumberView; created: boolean }> {
  await requireAccount(deps, accountId);
  return decideAgainWhileStale(async () => {
    const currentPhno = await deps.numbers.defaultOf(accountId);
    if (!currentPhno) return { number: await connectNumber(deps, accountId, input, idempotencyKey), created: true };
    const current = await deps.numbers.get(accountId, currentPhno);
    // The marker names a number not (yet) in the partition: a merge is moving it in.
    if (!current) throw new StaleNumberState(`default ${currentPhno} is moving`);
    // The same number cannot leave and arrive in one transaction; it is connected anyway.
    if (current.whatsapp_phno === input.whatsapp_phno) throw new NumberAlreadyConnected(input.whatsapp_phno);
    if (current.phoneNumberId === input.phoneNumberId) {
      throw withPhoneNumberId(new NumberAlreadyConnected(input.whatsapp_phno), input.phoneNumberId);
    }
    const next = newNumber(accountId, input, true, deps.clock.now().toISOString());
    await deps.numbers.replaceDefault(current, next);
    return { number: toNumberView(next), created: false };
  });
}

/** Names the Meta id that made a number unconnectable. */
export function withPhoneNumberId(error: NumberAlreadyConnected, phoneNumberId: string): NumberAlreadyConnected {
  Object.assign(error.details, { phoneNumberId });
  return error;
}

export async function requireNumber(deps: Pick<NumberDeps, 'numbers'>, accountId: string, whatsappPhno: string): Promise<ConnectedNumber> {
  const number = await deps.numbers.get(accountId, whatsappPhno);
  if (!number) throw new NotFound(`The number ${whatsappPhno}`);
  return number;
}

/**
 * Renames a number (its route rows follow), sets or clears its credit cap,
 * and/or its share of the portfolio's messaging limit (kept on the portfolio,
 * where reservations check it in their transaction).
 */
export async function updateNumber(
  deps: Pick<NumberDeps, 'accounts' | 'numbers' | 'clock' | 'messagingLimits'>,
  accountId: string,
  whatsappPhno: string,
  patch: NumberPatch,
): Promise<NumberView> {
  await requireAccount(deps, accountId);
  let number = await requireNumber(deps, accountId, whatsappPhno);
  const at = deps.clock.now().toISOString();
  const portfolioId = portfolioOf(number);
  if (patch.messagingLimitShare !== undefined) await deps.messagingLimits.setShare(accountId, portfolioId, number.whatsapp_phno, patch.messagingLimitShare, at);
  const { messagingLimitShare: _share, ...rest } = patch;
  if (rest.name !== undefined || rest.creditCapMicros !== undefined) number = await deps.numbers.update(number, rest, at);
  const shares = (await deps.messagingLimits.portfolio(accountId, portfolioId))?.shares ?? {};
  return toNumberView(number, shares[number.whatsapp_phno] ?? null);
}

/** Binds a Meta catalog: a default-number-only feature. */
export async function setNumberCatalog(
  deps: Pick<NumberDeps, 'accounts' | 'numbers' | 'clock'>,
  accountId: string,
  whatsappPhno: string,
  catalogId: string,
): Promise<{ whatsapp_phno: string; catalogId: string }> {
  await requireAccount(deps, accountId);
  const number = await requireNumber(deps, accountId, whatsappPhno);
  requireFeature(number, 'catalog');
  await deps.numbers.setCatalog(number, catalogId, deps.clock.now().toISOString());
  return { whatsapp_phno: number.whatsapp_phno, catalogId };
}

/** The catalog bound to the default number (`null` until one is bound); 403 `FEATURE_UNAVAILABLE` on an additional number. */
export async function getNumberCatalog(
  deps: Pick<NumberDeps, 'accounts' | 'numbers'>,
  accountId: string,
  whatsappPhno: string,
): Promise<{ whatsapp_phno: string; catalogId: string | null }> {
  await requireAccount(deps, accountId);
  const number = await requireNumber(deps, accountId, whatsappPhno);
  requireFeature(number, 'catalog');
  return { whatsapp_phno: number.whatsapp_phno, catalogId: number.catalogId ?? null };
}

/**
 * Operators remove a number: its claim, routes and add-on slot are freed.
 * Removing the default while additional numbers remain needs the number that
 * becomes the default (`newDefault`); that number stops using a slot.
 */
export async function removeNumber(
  deps: Pick<NumberDeps, 'accounts' | 'numbers'>,
  accountId: string,
  whatsappPhno: string,
  options: { newDefault?: string },
  idempotencyKey: string,
): Promise<void> {
  await requireAccount(deps, accountId);
  await decideAgainWhileStale(async () => {
    const number = await requireNumber(deps, accountId, whatsappPhno);
    if (!number.isDefault) return deps.numbers.removeAdditional(number, idempotencyKey);
    const others = (await deps.numbers.list(accountId)).filter((n) => n.whatsapp_phno !== whatsappPhno);
    if (others.length === 0) return deps.numbers.removeOnlyDefault(number);
    const candidates = others.map((n) => n.whatsapp_phno).sort();
    if (!options.newDefault) {
      throw new Conflict(
        'DEFAULT_REQUIRED',
        `${whatsappPhno} is the default number and ${others.length} more remain: name the one that becomes the default with ?newDefault=.`,
        { whatsapp_phno: whatsappPhno, candidates },
      );
    }
    const promoted = others.find((n) => n.whatsapp_phno === options.newDefault);
    if (!promoted) {
      throw new Conflict('DEFAULT_REQUIRED', `newDefault ${options.newDefault} is not another number of this account.`, {
        whatsapp_phno: whatsappPhno,
        candidates,
      });
    }
    return deps.numbers.removeDefaultPromoting(number, promoted, idempotencyKey);
  });
}
