/**
 * The automations API's use cases (docs/automations.md, "The kinds and their
 * API"): create, read, list, replace and delete the five kinds under
 * `/v1/automations/{kind}`.
 *
 * The body arrives parsed by its schema (`AUTOMATION_BODIES`: Meta's limits,
 * the chatbot's step graph). What a schema cannot know is checked here,
 * against the account, before anything is written, every problem answered
 * at once as 400 `VALIDATION_FAILED` naming its field:
 * - `scope.whatsapp_phno` must be one of the account's numbers;
 * - a keyword's `action.replyMaterialId` / `action.chatbotId` /
 *   `action.teamId`, a default action's `replyMaterialId`, a route's
 *   `teamId` and `members.N` must exist in the account;
 * - a referenced chatbot or reply material that is a rule for one number can
 *   only be used by a rule for that same number (an account-wide keyword
 *   would otherwise answer on numbers where its target does not apply).
 * References are checked when the item holding them is written; deleting
 * or re-scoping the target later does not touch the items that name it.
 */
import {
  AUTOMATION_ID_PREFIX,
  type AutomationBody,
  type AutomationKind,
  type AutomationScope,
  type AutomationView,
} from '../../schemas/automations.js';
import { requireAccount } from './accounts.js';
import type { AutomationRepository, StoredAutomation } from './automation-ports.js';
import { NotFound, type ValidationIssue, ValidationFailed } from './errors.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository, Clock, IdGenerator, Page, PageRequest } from './ports.js';

export interface AutomationApiDeps {
  accounts: AccountRepository;
  numbers: Pick<NumberRepository, 'get'>;
  automations: AutomationRepository;
  clock: Clock;
  ids: IdGenerator;
}

/** How one item of each kind is named in messages. */
const LABEL: Record<AutomationKind, string> = {
  keywords: 'keyword',
  'default-actions': 'default action',
  routes: 'route',
  'reply-material': 'reply material',
  chatbots: 'chatbot',
  'ai-agents': 'AI agent',
  sequences: 'sequence',
};

// ----------------------------------------------------------------- use cases

export async function createAutomation<K extends AutomationKind>(
  deps: AutomationApiDeps,
  accountId: string,
  kind: K,
  body: AutomationBody<K>,
): Promise<AutomationView<K>> {
  await requireAccount(deps, accountId);
  await checkAgainstAccount(deps, accountId, kind, body);
  const at = deps.clock.now().toISOString();
  const stored = await deps.automations.create<K>({ accountId, kind, id: deps.ids.newId(AUTOMATION_ID_PREFIX[kind]), body, createdAt: at, updatedAt: at });
  return toAutomationView(stored);
}

export async function getAutomation<K extends AutomationKind>(
  deps: Pick<AutomationApiDeps, 'accounts' | 'automations'>,
  accountId: string,
  kind: K,
  id: string,
): Promise<AutomationView<K>> {
  await requireAccount(deps, accountId);
  const stored = await deps.automations.get(accountId, kind, id);
  if (!stored) throw notFound(kind, id);
  return toAutomationView(stored);
}

/**
 * One kind's automations, oldest first. With `whatsappPhno`: the rules for
 * that number and the account-wide ones, the set that applies on it. The
 * number is not required to be connected still, so rules left by a removed
 * number can be found and deleted.
 */
export async function listAutomations<K extends AutomationKind>(
  deps: Pick<AutomationApiDeps, 'accounts' | 'automations'>,
  accountId: string,
  kind: K,
  filter: { whatsappPhno?: string },
  page: PageRequest,
): Promise<Page<AutomationView<K>>> {
  await requireAccount(deps, accountId);
  const { items, nextCursor } = await deps.automations.list(accountId, kind, filter, page);
  return { items: items.map(toAutomationView), nextCursor };
}

/** Replaces the body (checked as on create); `id`, `kind` and `createdAt` stay. */
export async function replaceAutomation<K extends AutomationKind>(
  deps: AutomationApiDeps,
  accountId: string,
  kind: K,
  id: string,
  body: AutomationBody<K>,
): Promise<AutomationView<K>> {
  await requireAccount(deps, accountId);
  // A missing item answers 404 before its body is judged against the account.
  if (!(await deps.automations.get(accountId, kind, id))) throw notFound(kind, id);
  await checkAgainstAccount(deps, accountId, kind, body);
  const stored = await deps.automations.replace(accountId, kind, id, body, deps.clock.now().toISOString());
  if (!stored) throw notFound(kind, id);
  return toAutomationView(stored);
}

export async function deleteAutomation(deps: Pick<AutomationApiDeps, 'accounts' | 'automations'>, accountId: string, kind: AutomationKind, id: string): Promise<void> {
  await requireAccount(deps, accountId);
  if (!(await deps.automations.delete(accountId, kind, id))) throw notFound(kind, id);
}

export function toAutomationView<K extends AutomationKind>(stored: StoredAutomation<K>): AutomationView<K> {
  return { id: stored.id, kind: stored.kind, createdAt: stored.createdAt, updatedAt: stored.updatedAt, ...stored.body } as AutomationView<K>;
}

// ---------------------------------------------------------------- the checks

type KindAndBody = { [K in AutomationKind]: { kind: K; body: AutomationBody<K> } }[AutomationKind];

/**
 * What the schema cannot know, against the account: every issue at once, as
 * one 400 naming each field (`body.scope.whatsapp_phno`, `body.action.chatbotId`, …).
 */
export async function checkAgainstAccount(
  deps: Pick<AutomationApiDeps, 'accounts' | 'numbers' | 'automations'>,
  accountId: string,
  kind: AutomationKind,
  body: AutomationBody,
): Promise<void> {
  const scope: AutomationScope = body.scope ?? {};
  const checks: Promise<ValidationIssue | undefined>[] = [];
  if (scope.whatsapp_phno !== undefined) checks.push(numberExists(deps, accountId, scope.whatsapp_phno));

  const item = { kind, body } as KindAndBody;
  switch (item.kind) {
    case 'keywords': {
      const action = item.body.action;
      if (action.type === 'replyMaterial') checks.push(usable(deps, accountId, scope, 'reply-material', action.replyMaterialId, ['action', 'replyMaterialId']));
      if (action.type === 'startChatbot') checks.push(usable(deps, accountId, scope, 'chatbots', action.chatbotId, ['action', 'chatbotId']));
      if (action.type === 'assignTeam') checks.push(teamExists(deps, accountId, action.teamId, ['action', 'teamId']));
      if (action.type === 'aiAgent') checks.push(usable(deps, accountId, scope, 'ai-agents', action.aiAgentId, ['action', 'aiAgentId']));
      if (action.type === 'subscribeSequence') checks.push(usable(deps, accountId, scope, 'sequences', action.sequenceId, ['action', 'sequenceId']));
      break;
    }
    case 'ai-agents':
      if (item.body.handoff.teamId !== undefined) checks.push(teamExists(deps, accountId, item.body.handoff.teamId, ['handoff', 'teamId']));
      break;
    case 'default-actions':
      if (item.body.replyMaterialId !== undefined) checks.push(usable(deps, accountId, scope, 'reply-material', item.body.replyMaterialId, ['replyMaterialId']));
      break;
    case 'routes':
      checks.push(teamExists(deps, accountId, item.body.teamId, ['teamId']));
      item.body.members.forEach((userId, i) => checks.push(userExists(deps, accountId, userId, ['members', i])));
      break;
    case 'reply-material':
    case 'chatbots':
    case 'sequences':
      break;
  }
  const issues = (await Promise.all(checks)).filter((issue): issue is ValidationIssue => issue !== undefined);
  if (issues.length > 0) throw new ValidationFailed(issues);
}

function issue(path: (string | number)[], message: string): ValidationIssue {
  return { path: ['body', ...path], message, code: 'invalid_value' };
}

async function numberExists(deps: Pick<AutomationApiDeps, 'numbers'>, accountId: string, whatsappPhno: string) {
  if (await deps.numbers.get(accountId, whatsappPhno)) return undefined;
  return issue(['scope', 'whatsapp_phno'], `The account has no number ${whatsappPhno}.`);
}

async function teamExists(deps: Pick<AutomationApiDeps, 'accounts'>, accountId: string, teamId: string, path: (string | number)[]) {
  return (await deps.accounts.getTeam(accountId, teamId)) ? undefined : issue(path, `The account has no team ${teamId}.`);
}

async function userExists(deps: Pick<AutomationApiDeps, 'accounts'>, accountId: string, userId: string, path: (string | number)[]) {
  return (await deps.accounts.getUser(accountId, userId)) ? undefined : issue(path, `The account has no user ${userId}.`);
}

/** A chatbot or reply material the item may use: it exists, and applies everywhere the item does. */
async function usable(
  deps: Pick<AutomationApiDeps, 'automations'>,
  accountId: string,
  scope: AutomationScope,
  kind: 'chatbots' | 'reply-material' | 'ai-agents' | 'sequences',
  id: string,
  path: (string | number)[],
) {
  const target = await deps.automations.get(accountId, kind, id);
  if (!target) return issue(path, `The account has no ${LABEL[kind]} ${id}.`);
  const only = target.body.scope?.whatsapp_phno;
  if (only === undefined || only === scope.whatsapp_phno) return undefined;
  const here = scope.whatsapp_phno === undefined ? 'this automation applies to every number' : `this automation is a rule for ${scope.whatsapp_phno}`;
  return issue(path, `The ${LABEL[kind]} ${id} is a rule for ${only} only; ${here}.`);
}

function notFound(kind: AutomationKind, id: string): NotFound {
  return new NotFound(`The ${LABEL[kind]} ${id}`);
}
