/**
 * Account merges (operators): every number, add-on, the credit balance and the
 * history of one account move into another, as idempotent steps that a re-run
 * finishes without duplicating anything (docs/architecture.md).
 */
import type { Addons } from '../../schemas/accounts.js';
import type { MergeView } from '../../schemas/numbers.js';
import { getAccountView, requireAccount } from './accounts.js';
import { Conflict, NotFound, ValidationFailed } from './errors.js';
import { type NumberDeps, byRole, decideAgainWhileStale } from './numbers.js';
import type { Account } from './plan.js';

// --- model ---------------------------------------------------------------------

export interface MergeNumber {
  whatsapp_phno: string;
  phoneNumberId: string;
  wabaId: string;
  /** It was the source's default. */
  wasDefault: boolean;
  /** It becomes the target's default (only when the target had none). */
  becomesDefault: boolean;
}

/** What the merge decided at its start; stored so a re-run finishes the same merge. */
export interface MergePlan {
  /** The accounts as read: the merge's first write holds only if their add-ons and status are unchanged. */
  source: Account;
  target: Account;
  numbers: MergeNumber[];
  /** The source's default marker as read (absent: no default). */
  sourceDefault?: string;
  /** Whether the target had a default when read. */
  targetHasDefault: boolean;
  /** Additional-number slots the source used when read. */
  sourceSlotsUsed: number;
  /** Additional-number slots the moved numbers take on the target. */
  slots: number;
  at: string;
}

export interface MergeProgress {
  sourceAccountId: string;
  targetAccountId: string;
  status: 'in_progress' | 'completed';
  numbers: MergeNumber[];
  addonsMoved: Addons;
  creditsMovedMicros: number;
  startedAt: string;
  completedAt?: string;
}

// --- ports ---------------------------------------------------------------------

/** Account merges as idempotent steps; each step can run again and changes nothing the second time. */
export interface MergeRepository {
  progress(sourceAccountId: string): Promise<MergeProgress | undefined>;
  /**
   * One transaction: records the progress item, closes the source, moves its
   * add-ons and reserves the target's slots for the numbers to come.
   * `StaleNumberState` when what the plan read changed meanwhile.
   */
  begin(plan: MergePlan): Promise<MergeProgress>;
  /** Moves one number (item, claim, routes) in its own transaction, conditioned on its current owner. */
  moveNumber(progress: MergeProgress, number: MergeNumber): Promise<void>;
  /** Copies contacts, conversations (with their messages), templates and automations; returns how many items were written. */
  copyHistory(progress: MergeProgress): Promise<number>;
  /** Moves the source's credit balance with a ledger entry on each side; returns what moved in total. */
  moveCredits(progress: MergeProgress, at: string): Promise<number>;
  finish(progress: MergeProgress, at: string): Promise<MergeProgress>;
}

export interface MergeDeps extends NumberDeps {
  merges: MergeRepository;
}

// --- use case ------------------------------------------------------------------

/**
 * Merges the source account into the target (operators). Decisions:
 * - every source number becomes an additional number of the target, the
 *   source's default too, so each takes one of the target's number add-ons
 *   (the source's add-ons move first); more than 15 additional numbers, or
 *   more than the add-ons cover, is refused with `QUOTA_EXCEEDED` before
 *   anything changes. A target without any number gets the source's default
 *   as its default instead (an account with numbers always has one default);
 * - all add-ons move (target += source), the credit balance moves through a
 *   ledger entry on each side, contacts, conversations with their messages
 *   (wamid pointers follow), templates, automations and the numbers' spend
 *   against their caps are copied into the target; where the target already
 *   has an item of the same key (a template of the same name) the target's
 *   is kept;
 * - users and teams stay with the source: their logins are bound to it by the
 *   identity provider, so the target's owner invites the people it keeps
 *   (the users/teams add-ons they paid for do move);
 * - the source is closed by the first step, so nothing new lands on it while
 *   the rest runs. Every step is idempotent: a merge interrupted halfway is
 *   finished by running it again, without duplicating anything.
 */
export async function mergeAccounts(deps: MergeDeps, targetAccountId: string, sourceAccountId: string): Promise<MergeView> {
  if (targetAccountId === sourceAccountId) {
    throw new ValidationFailed([{ path: ['body', 'sourceAccountId'], message: 'An account cannot be merged into itself.', code: 'invalid_value' }]);
  }
  let progress = await deps.merges.progress(sourceAccountId);
  if (progress && progress.targetAccountId !== targetAccountId) {
    throw new Conflict('ACCOUNT_MERGED', `Account ${sourceAccountId} is merged into another account.`, {
      sourceAccountId,
      targetAccountId: progress.targetAccountId,
    });
  }
  if (!progress) progress = await decideAgainWhileStale(() => beginMerge(deps, targetAccountId, sourceAccountId));
  if (progress.status !== 'completed') {
    for (const number of progress.numbers) await deps.merges.moveNumber(progress, number);
    await deps.merges.copyHistory(progress);
    const creditsMovedMicros = await deps.merges.moveCredits(progress, deps.clock.now().toISOString());
    progress = await deps.merges.finish({ ...progress, creditsMovedMicros }, deps.clock.now().toISOString());
  }
  return {
    sourceAccountId,
    targetAccountId,
    status: progress.status,
    numbers: progress.numbers.map((n) => ({ whatsapp_phno: n.whatsapp_phno, isDefault: n.becomesDefault })),
    addonsMoved: progress.addonsMoved,
    creditsMovedMicros: progress.creditsMovedMicros,
    account: await getAccountView(deps, targetAccountId),
  };
}

async function beginMerge(deps: MergeDeps, targetAccountId: string, sourceAccountId: string): Promise<MergeProgress> {
  const target = await requireAccount(deps, targetAccountId);
  const source = await deps.accounts.get(sourceAccountId);
  if (!source || source.status !== 'active') {
    // A concurrent run of this very merge may have just closed it.
    const started = await deps.merges.progress(sourceAccountId);
    if (started?.targetAccountId === targetAccountId) return started;
    throw new NotFound('The source account');
  }
  const [sourceNumbers, sourceDefault, targetDefault] = await Promise.all([
    deps.numbers.list(sourceAccountId),
    deps.numbers.defaultOf(sourceAccountId),
    deps.numbers.defaultOf(targetAccountId),
  ]);
  const targetHasDefault = targetDefault !== undefined;
  const numbers: MergeNumber[] = sourceNumbers.sort(byRole).map((n) => ({
    whatsapp_phno: n.whatsapp_phno,
    phoneNumberId: n.phoneNumberId,
    wabaId: n.wabaId,
    wasDefault: n.isDefault,
    becomesDefault: !targetHasDefault && n.isDefault,
  }));
  const slots = numbers.filter((n) => !n.becomesDefault).length;
  return deps.merges.begin({
    source,
    target,
    numbers,
    sourceDefault,
    targetHasDefault,
    sourceSlotsUsed: sourceNumbers.filter((n) => !n.isDefault).length,
    slots,
    at: deps.clock.now().toISOString(),
  });
}
