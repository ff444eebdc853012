/**
 * The inbox list's filters as one `FilterExpression` on the newest-first
 * conversation indexes (gsi1: the account's, gsi2: one number's). No index of
 * its own: a filter is applied after `Limit`, so a page may hold fewer than
 * asked (even none) with a next cursor, which keeps working; an inbox lists a
 * few pages of a bounded set, and the writes stay as cheap as they were.
 *
 * A snooze whose time has passed is `open` at read: `status=open` takes it,
 * `status=snoozed` does not, with no timer ever rewriting the item.
 */
import type { ConversationListFilter } from '../../core/inbox-ports.js';
import { searchQueryOf } from '../../core/conversation-search.js';
import type { QueryFilter } from './query.js';

/** One filter clause with its own `#f…`/`:f…` aliases. */
type Clause = Required<QueryFilter>;

export function conversationFilterOf(filter: ConversationListFilter, now: string): QueryFilter | undefined {
  const clauses: Clause[] = [];
  if (filter.kind === 'group') clauses.push({ expression: '#fkind = :fgroup', names: { '#fkind': 'kind' }, values: { ':fgroup': 'group' } });
  if (filter.kind === 'direct') {
    clauses.push({ expression: '(attribute_not_exists(#fkind) OR #fkind <> :fgroup)', names: { '#fkind': 'kind' }, values: { ':fgroup': 'group' } });
  }
  if (filter.whatsappPhnos !== undefined && filter.whatsappPhno === undefined && filter.whatsappPhnos.length > 1) {
    const values = Object.fromEntries(filter.whatsappPhnos.map((phno, i) => [`:fphno${i}`, phno]));
    clauses.push({ expression: `#fphno IN (${Object.keys(values).join(', ')})`, names: { '#fphno': 'whatsapp_phno' }, values });
  }
  if (filter.status !== undefined) clauses.push(statusClause(filter.status, now));
  if (filter.assignee === 'none') clauses.push({ expression: 'attribute_not_exists(#fuser)', names: { '#fuser': 'assignedUserId' }, values: {} });
  else if (filter.assignee !== undefined) clauses.push({ expression: '#fuser = :fuser', names: { '#fuser': 'assignedUserId' }, values: { ':fuser': filter.assignee.userId } });
  if (filter.teamId !== undefined) clauses.push({ expression: '#fteam = :fteam', names: { '#fteam': 'assignedTeamId' }, values: { ':fteam': filter.teamId } });
  if (filter.unread === true) clauses.push({ expression: '#funread > :fzero', names: { '#funread': 'unreadCount' }, values: { ':fzero': 0 } });
  if (filter.unread === false) {
    clauses.push({ expression: '(attribute_not_exists(#funread) OR #funread = :fzero)', names: { '#funread': 'unreadCount' }, values: { ':fzero': 0 } });
  }
  if (filter.q !== undefined && filter.q !== '') clauses.push(searchClause(filter.q));
  if (clauses.length === 0) return undefined;
  return {
    expression: clauses.map((clause) => clause.expression).join(' AND '),
    names: Object.assign({}, ...clauses.map((clause) => clause.names)),
    values: Object.assign({}, ...clauses.map((clause) => clause.values)),
  };
}

function statusClause(status: NonNullable<ConversationListFilter['status']>, now: string): Clause {
  const names = { '#fstatus': 'status', '#funtil': 'snoozedUntil' };
  switch (status) {
    case 'open':
      // Stored before statuses existed (none), open, or a snooze that has run out.
      return {
        expression: '(attribute_not_exists(#fstatus) OR #fstatus = :fopen OR (#fstatus = :fsnoozed AND (attribute_not_exists(#funtil) OR #funtil <= :fnow)))',
        names,
        values: { ':fopen': 'open', ':fsnoozed': 'snoozed', ':fnow': now },
      };
    case 'snoozed':
      return { expression: '(#fstatus = :fsnoozed AND #funtil > :fnow)', names, values: { ':fsnoozed': 'snoozed', ':fnow': now } };
    default:
      return { expression: '#fstatus = :fstatus', names: { '#fstatus': 'status' }, values: { ':fstatus': status } };
  }
}

/** Name or number: the stored `searchText`, and the contact key (conversations not written since `searchText` exists). */
function searchClause(q: string): Clause {
  const { text, digits } = searchQueryOf(q);
  const values: Record<string, unknown> = { ':fq': text };
  const parts = ['contains(#fsearch, :fq)', 'contains(#fckey, :fq)'];
  if (digits) {
    values[':fqd'] = digits;
    parts.push('contains(#fsearch, :fqd)', 'contains(#fckey, :fqd)');
  }
  return { expression: `(${parts.join(' OR ')})`, names: { '#fsearch': 'searchText', '#fckey': 'contactKey' }, values };
}
