/**
 * Webhook ingestion (docs/architecture.md): a verified delivery from Meta becomes one
 * bus event per message, per status, per echo or history message, per user
 * preference and per template/number update, each tagged with the connected
 * number it concerns. Who a message is from follows one rule (`pairSenderContact`,
 * docs/architecture.md "Contact identity").
 *
 * Pure: the only thing it asks the world is the route of a phone_number_id or
 * a WABA, through the `NumberRouteLookup` port. Every entry, change and item
 * is visited. Parsing happens item by item, so an item that fails its schema
 * is reported in `invalid` (the webhook logs and counts it) and everything
 * else of the delivery is still published.
 */
import { createHash } from 'node:crypto';
import { normalizePhno } from '../../schemas/common.js';
import { EVENT_CONTRACTS, type WebhookEvent } from '../../schemas/events.js';
import { busEvent } from '../../schemas/events/contract.js';
import type { NumberContext } from '../../schemas/events/number-context.js';
import {
  RECORD_FIELDS,
  type TemplateStatusUpdate,
  WABA_FIELDS,
  changeValueSchemas,
  historyChunk,
  historyThread,
  messageStatus,
  metaId,
  otherFieldValue,
  userPreference,
  webhookChange,
  webhookEntry,
} from '../../schemas/meta-webhook.js';
import { type InboundMessage, inboundMessage, messageContact } from '../../schemas/meta-message.js';
import { isBusinessScopedUserId } from '../../schemas/whatsapp-ids.js';
import type * as z from 'zod';
import { type ContactIdentity, contactIdentity, pairSenderContact } from './contact-id.js';

// ------------------------------------------------------------------- ports

/** A connected number as the webhook routes to it (the `PNID#…/ROUTE` and `WABA#…/ROUTE#…` rows). */
export interface NumberRoute {
  accountId: string;
  whatsapp_phno: string;
  phoneNumberId: string;
  wabaId: string;
  isDefault: boolean;
  name?: string;
}

export interface NumberRouteLookup {
  /** The number a `messages` change's `metadata.phone_number_id` belongs to; undefined when no account connected it. */
  byPhoneNumberId(phoneNumberId: string): Promise<NumberRoute | undefined>;
  /** Every connected number of a WABA (for changes that carry no phone_number_id). */
  byWaba(wabaId: string): Promise<NumberRoute[]>;
}

// ------------------------------------------------------------------ result

/** Something Meta sent about a number no account has connected: answered 200 (Meta must not retry) and counted. */
export interface UnroutedItem {
  where: string;
  field: string;
  wabaId: string;
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  /** The event id it would have had, when it could be derived. */
  eventId?: string;
}

/** An entry, change or item that failed its schema: logged and counted, the rest of the delivery goes on. */
export interface InvalidItem {
  where: string;
  field?: string;
  issues: string[];
}

/** `value.errors` of a `messages` change: Meta reporting a problem with the number or app rather than an item. */
export interface ChangeErrors {
  where: string;
  /** Absent for a WABA-level change (e.g. a `history` chunk without `metadata`). */
  phoneNumberId?: string;
  errors: unknown[];
}

export interface Ingestion {
  events: WebhookEvent[];
  unrouted: UnroutedItem[];
  invalid: InvalidItem[];
  changeErrors: ChangeErrors[];
}

// --------------------------------------------------------------- use case

type MessagesValue = z.infer<(typeof changeValueSchemas)['messages']>;

type RecordField = (typeof RECORD_FIELDS)[keyof typeof RECORD_FIELDS];
const RECORD_FIELD_NAMES: ReadonlySet<string> = new Set(Object.values(RECORD_FIELDS));

type ParsedChange =
  | { kind: 'messages'; where: string; wabaId: string; time?: number; value: MessagesValue }
  | { kind: 'update'; where: string; wabaId: string; time?: number; field: string; value: Record<string, unknown>; phoneNumberId?: string }
  /** Echoes, history and user preferences: about a number's conversations, routed by `metadata` or else the WABA. */
  | { kind: 'records'; where: string; wabaId: string; time?: number; field: RecordField; value: Record<string, unknown>; phoneNumberId?: string };

/**
 * Turns a delivery's entries into bus events. `entries` is the envelope's
 * `entry` array, unparsed; `receivedAt` (ISO) is stamped on every event.
 */
export async function ingestDelivery(entries: unknown[], routes: NumberRouteLookup, receivedAt: string): Promise<Ingestion> {
  const result: Ingestion = { events: [], unrouted: [], invalid: [], changeErrors: [] };
  const changes = parseChanges(entries, result.invalid);

  // Each distinct route is looked up once, all at once: a batch of hundreds of items names only a few numbers.
  const phoneNumberIds = new Set<string>();
  const wabaIds = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'messages') phoneNumberIds.add(change.value.metadata.phone_number_id);
    else if (change.phoneNumberId) phoneNumberIds.add(change.phoneNumberId);
    else wabaIds.add(change.wabaId);
  }
  const [byPnid, byWaba] = await Promise.all([
    lookupAll(phoneNumberIds, (id) => routes.byPhoneNumberId(id)),
    lookupAll(wabaIds, (id) => routes.byWaba(id)),
  ]);

  for (const change of changes) {
    if (change.kind === 'messages') {
      messagesChangeEvents(change, byPnid.get(change.value.metadata.phone_number_id), receivedAt, result);
      continue;
    }
    const candidates = change.phoneNumberId ? [byPnid.get(change.phoneNumberId)].filter((r) => r !== undefined) : (byWaba.get(change.wabaId) ?? []);
    if (change.kind === 'records') recordEvents(change, candidates, receivedAt, result);
    else updateEvents(change, candidates, receivedAt, result);
  }
  return result;
}

function parseChanges(entries: unknown[], invalid: InvalidItem[]): ParsedChange[] {
  const changes: ParsedChange[] = [];
  entries.forEach((rawEntry, e) => {
    const entry = webhookEntry.safeParse(rawEntry);
    if (!entry.success) {
      invalid.push({ where: `entry[${e}]`, issues: issuesOf(entry.error) });
      return;
    }
    const { id: wabaId, time } = entry.data;
    entry.data.changes.forEach((rawChange, c) => {
      const where = `entry[${e}].changes[${c}]`;
      const change = webhookChange.safeParse(rawChange);
      if (!change.success) {
        invalid.push({ where, issues: issuesOf(change.error) });
        return;
      }
      const { field } = change.data;
      const schema = field in changeValueSchemas ? changeValueSchemas[field as keyof typeof changeValueSchemas] : otherFieldValue;
      const value = schema.safeParse(change.data.value);
      if (!value.success) {
        invalid.push({ where: `${where}.value`, field, issues: issuesOf(value.error) });
        return;
      }
      if (field === 'messages') {
        changes.push({ kind: 'messages', where, wabaId, time, value: value.data as MessagesValue });
        return;
      }
      // Fields we do not model but that name a number (calls, echoes, …) go to that number, not to the whole WABA.
      const data = value.data as Record<string, unknown>;
      const metadata = data.metadata as { phone_number_id?: unknown } | undefined;
      const pnid = metadata?.phone_number_id === undefined ? undefined : metaId.safeParse(metadata.phone_number_id);
      if (pnid && !pnid.success) {
        invalid.push({ where: `${where}.value.metadata.phone_number_id`, field, issues: issuesOf(pnid.error) });
        return;
      }
      const kind = RECORD_FIELD_NAMES.has(field) ? 'records' : 'update';
      changes.push({ kind, where, wabaId, time, field: field as RecordField, value: data, phoneNumberId: pnid?.data });
    });
  });
  return changes;
}

function messagesChangeEvents(change: Extract<ParsedChange, { kind: 'messages' }>, route: NumberRoute | undefined, receivedAt: string, result: Ingestion) {
  const { value, where, wabaId } = change;
  const phoneNumberId = value.metadata.phone_number_id;
  const unrouted = (itemWhere: string, eventId: string) =>
    result.unrouted.push({ where: itemWhere, field: 'messages', wabaId, phoneNumberId, displayPhoneNumber: value.metadata.display_phone_number, eventId });

  const contacts = contactEntries(value.contacts);
  if (value.errors?.length) result.changeErrors.push({ where, phoneNumberId, errors: value.errors });

  (value.messages ?? []).forEach((raw, i) => {
    const itemWhere = `${where}.value.messages[${i}]`;
    const parsed = inboundMessage.safeParse(raw);
    if (!parsed.success) {
      result.invalid.push({ where: itemWhere, field: 'messages', issues: issuesOf(parsed.error) });
      return;
    }
    const message = parsed.data;
    // The message says who wrote; its contacts entry only adds the name when it names the same person.
    const { identity, contact } = pairSenderContact({ waId: message.from, userId: message.from_user_id }, contacts);
    if (!identity) {
      result.invalid.push({ where: itemWhere, field: 'messages', issues: [NO_SENDER] });
      return;
    }
    if (!route) {
      unrouted(itemWhere, message.id);
      return;
    }
    result.events.push(
      busEvent(EVENT_CONTRACTS.messageReceived, {
        ...numberContext(route, message.id, receivedAt, fromEpochSeconds(message.timestamp)),
        message,
        ...(contact ? { contact } : {}),
      }),
    );
  });

  (value.statuses ?? []).forEach((raw, i) => {
    const itemWhere = `${where}.value.statuses[${i}]`;
    const parsed = messageStatus.safeParse(raw);
    if (!parsed.success) {
      result.invalid.push({ where: itemWhere, field: 'messages', issues: issuesOf(parsed.error) });
      return;
    }
    const status = parsed.data;
    const eventId = `${status.id}:${status.status}`;
    if (!route) {
      unrouted(itemWhere, eventId);
      return;
    }
    const broadcastId = broadcastIdOf(status.biz_opaque_callback_data);
    result.events.push(
      busEvent(EVENT_CONTRACTS.messageStatusUpdated, {
        ...numberContext(route, eventId, receivedAt, fromEpochSeconds(status.timestamp)),
        status,
        ...(broadcastId ? { broadcastId } : {}),
      }),
    );
  });
}

const NO_SENDER = 'from: names no usable sender (a phone number in from, a business-scoped user id in from_user_id, or a single contacts entry when the message names neither).';

function contactEntries(raw: unknown[] | undefined): z.infer<typeof messageContact>[] {
  return (raw ?? []).flatMap((item) => {
    const contact = messageContact.safeParse(item);
    return contact.success ? [contact.data] : [];
  });
}

/** Echoes, history and user preferences: one event per message or preference, never `Number Updated`. */
function recordEvents(change: Extract<ParsedChange, { kind: 'records' }>, candidates: NumberRoute[], receivedAt: string, result: Ingestion) {
  const { field, value, where, wabaId } = change;
  /**
   * The number an item concerns: the one `metadata` names; for a WABA-level change the one whose number
   * the item's business side is, or the WABA's only number. Preferences go to every number of the WABA then.
   */
  const routeFor = (businessNumber: string | undefined): NumberRoute | undefined => {
    if (change.phoneNumberId || businessNumber === undefined) return candidates.length === 1 ? candidates[0] : undefined;
    const phno = normalizePhno(businessNumber);
    return candidates.find((route) => route.whatsapp_phno === phno);
  };
  const unrouted = (itemWhere: string, eventId?: string) =>
    result.unrouted.push({ where: itemWhere, field, wabaId, phoneNumberId: change.phoneNumberId, ...(eventId ? { eventId } : {}) });
  const record = (
    itemWhere: string,
    route: NumberRoute | undefined,
    message: InboundMessage,
    recorded: { source: 'business_app' | 'history'; direction: 'in' | 'out'; contact: ContactIdentity; threadId?: string },
  ) => {
    const eventId = `rec:${message.id}`;
    if (!route) {
      unrouted(itemWhere, eventId);
      return;
    }
    result.events.push(
      busEvent(EVENT_CONTRACTS.messageRecorded, {
        ...numberContext(route, eventId, receivedAt, fromEpochSeconds(message.timestamp)),
        source: recorded.source,
        direction: recorded.direction,
        contact: contactOf(recorded.contact),
        message,
        ...(recorded.threadId ? { threadId: recorded.threadId } : {}),
      }),
    );
  };

  if (field === RECORD_FIELDS.echoes) {
    // What the business typed in the Business app: `from` is the business number, `to` the user.
    arrayAt(value, 'message_echoes').forEach((raw, i) => {
      const itemWhere = `${where}.value.message_echoes[${i}]`;
      const parsed = inboundMessage.safeParse(raw);
      if (!parsed.success) return void result.invalid.push({ where: itemWhere, field, issues: issuesOf(parsed.error) });
      const message = parsed.data;
      const contact = contactIdentity({ waId: stringAt(message, 'to'), userId: stringAt(message, 'to_user_id') });
      if (!contact) return void result.invalid.push({ where: itemWhere, field, issues: ['to: names no usable recipient (a phone number in to, or a business-scoped user id in to_user_id).'] });
      record(itemWhere, routeFor(message.from), message, { source: 'business_app', direction: 'out', contact });
    });
    return;
  }

  if (field === RECORD_FIELDS.history) {
    arrayAt(value, 'history').forEach((rawChunk, h) => {
      const chunkWhere = `${where}.value.history[${h}]`;
      const chunk = historyChunk.safeParse(rawChunk);
      if (!chunk.success) return void result.invalid.push({ where: chunkWhere, field, issues: issuesOf(chunk.error) });
      // The user declined to share their history (or Meta could not): reported, like a messages change's errors.
      if (chunk.data.errors?.length) result.changeErrors.push({ where: chunkWhere, ...(change.phoneNumberId ? { phoneNumberId: change.phoneNumberId } : {}), errors: chunk.data.errors });
      (chunk.data.threads ?? []).forEach((rawThread, t) => {
        const threadWhere = `${chunkWhere}.threads[${t}]`;
        const thread = historyThread.safeParse(rawThread);
        if (!thread.success) return void result.invalid.push({ where: threadWhere, field, issues: issuesOf(thread.error) });
        // A thread's id is the user's wa_id (or their BSUID for a username-only user).
        const threadId = thread.data.id;
        const contact = contactIdentity(isBusinessScopedUserId(threadId) ? { userId: threadId } : { waId: threadId });
        if (!contact) return void result.invalid.push({ where: threadWhere, field, issues: ['id: the thread names no usable user (a phone number or a business-scoped user id).'] });
        const messages = (thread.data.messages ?? []).flatMap((raw, m) => {
          const parsed = inboundMessage.safeParse(raw);
          if (parsed.success) return [parsed.data];
          result.invalid.push({ where: `${threadWhere}.messages[${m}]`, field, issues: issuesOf(parsed.error) });
          return [];
        });
        const fromUser = (message: InboundMessage) => !sentByBusiness(message, contact);
        const route = routeFor(messages.find((message) => !fromUser(message))?.from);
        messages.forEach((message, m) => {
          // `in` when the user wrote it, `out` when the business did: `from` is the business number then.
          const direction = fromUser(message) ? 'in' : 'out';
          record(`${threadWhere}.messages[${m}]`, route, message, { source: 'history', direction, contact, threadId });
        });
      });
    });
    return;
  }

  // user_preferences: the item names the user; the change's contacts entry adds their user_id only when it matches.
  const contacts = contactEntries(arrayAt(value, 'contacts'));
  // The number `metadata` names, or (WABA-level) every number of the WABA: an opt-out holds for the business.
  const targets = candidates;
  arrayAt(value, 'user_preferences').forEach((raw, i) => {
    const itemWhere = `${where}.value.user_preferences[${i}]`;
    const parsed = userPreference.safeParse(raw);
    if (!parsed.success) return void result.invalid.push({ where: itemWhere, field, issues: issuesOf(parsed.error) });
    const item = parsed.data;
    const { identity } = pairSenderContact({ waId: item.wa_id, userId: item.user_id }, contacts);
    if (!identity) return void result.invalid.push({ where: itemWhere, field, issues: ['wa_id: names no usable user (a phone number in wa_id, or a business-scoped user id in user_id).'] });
    const moment = item.timestamp ?? (change.time === undefined ? digest(item) : String(change.time));
    const eventId = `pref:${identity.contactKey}:${item.category}:${item.value}:${moment}`;
    if (targets.length === 0) return void unrouted(itemWhere, eventId);
    const occurredAt = item.timestamp === undefined ? (change.time === undefined ? undefined : fromEpochSeconds(change.time)) : fromEpochSeconds(item.timestamp);
    for (const route of targets) {
      result.events.push(
        busEvent(EVENT_CONTRACTS.userPreferencesUpdated, {
          ...numberContext(route, eventId, receivedAt, occurredAt),
          contact: contactOf(identity),
          category: item.category,
          value: item.value,
          at: occurredAt ?? receivedAt,
          ...(item.detail ? { detail: item.detail } : {}),
        }),
      );
    }
  });
}

/** Whether a history message was the business's: its sender is not the thread's user. */
function sentByBusiness(message: InboundMessage, user: ContactIdentity): boolean {
  const sender = contactIdentity({ waId: message.from, userId: message.from_user_id });
  if (!sender) return false;
  return user.waId ? sender.waId !== user.waId : sender.userId !== user.userId;
}

/** The `{waId?, userId?}` of an event's contact. */
function contactOf(identity: ContactIdentity): { waId?: string; userId?: string } {
  return { ...(identity.waId ? { waId: identity.waId } : {}), ...(identity.userId ? { userId: identity.userId } : {}) };
}

function arrayAt(value: Record<string, unknown>, key: string): unknown[] {
  const items = value[key];
  return Array.isArray(items) ? items : [];
}

function stringAt(value: Record<string, unknown>, key: string): string | undefined {
  const item = value[key];
  return typeof item === 'string' ? item : undefined;
}

function updateEvents(change: Extract<ParsedChange, { kind: 'update' }>, candidates: NumberRoute[], receivedAt: string, result: Ingestion) {
  const { field, value, wabaId, time, where } = change;
  // A WABA-level change names its number in `display_phone_number` (quality) or `phone_number` (account updates), if at all.
  const named = typeof value.display_phone_number === 'string' ? value.display_phone_number : typeof value.phone_number === 'string' ? value.phone_number : undefined;
  const phno = named === undefined ? undefined : (normalizePhno(named) ?? named.replace(/\D/g, ''));
  const targets = phno === undefined ? candidates : candidates.filter((route) => route.whatsapp_phno === phno);
  if (targets.length === 0) {
    result.unrouted.push({ where, field, wabaId, phoneNumberId: change.phoneNumberId, displayPhoneNumber: named });
    return;
  }
  const occurredAt = time === undefined ? undefined : fromEpochSeconds(time);
  // Ids derive from the content (Meta's entry time, a digest of the value) so a redelivery gets the same ids and dedupes.
  if (field === WABA_FIELDS.templateStatus) {
    const update = value as TemplateStatusUpdate; // parsed with its schema in parseChanges
    const template = update.message_template_id ?? `${update.message_template_name ?? '-'}/${update.message_template_language ?? '-'}`;
    const moment = time ?? digest(value);
    for (const route of targets) {
      const eventId = `tpl:${template}:${update.event}:${moment}:${route.whatsapp_phno}`;
      result.events.push(busEvent(EVENT_CONTRACTS.templateStatusUpdated, { ...numberContext(route, eventId, receivedAt, occurredAt), update }));
    }
    return;
  }
  const prefix = `upd:${field}:${typeof value.event === 'string' ? value.event : '-'}:${time ?? '-'}:${digest(value)}`;
  for (const route of targets) {
    const eventId = `${prefix}:${route.whatsapp_phno}`;
    result.events.push(busEvent(EVENT_CONTRACTS.numberUpdated, { ...numberContext(route, eventId, receivedAt, occurredAt), field, update: value }));
  }
}

function numberContext(route: NumberRoute, eventId: string, receivedAt: string, occurredAt: string | undefined): NumberContext {
  return {
    accountId: route.accountId,
    whatsapp_phno: route.whatsapp_phno,
    phoneNumberId: route.phoneNumberId,
    wabaId: route.wabaId,
    isDefaultNumber: route.isDefault,
    eventId,
    receivedAt,
    ...(occurredAt ? { occurredAt } : {}),
  };
}

/** `bc:{broadcastId}` in `biz_opaque_callback_data` marks a broadcast's message (set by the sender). */
export function broadcastIdOf(callbackData: string | undefined): string | undefined {
  return callbackData?.match(/^bc:([^:\s]+)/)?.[1];
}

function fromEpochSeconds(value: string | number): string | undefined {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 1e11) return undefined;
  return new Date(seconds * 1000).toISOString();
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value) ?? '').digest('hex').slice(0, 16);
}

async function lookupAll<T>(ids: Set<string>, lookup: (id: string) => Promise<T>): Promise<Map<string, T>> {
  const found = await Promise.all([...ids].map(async (id) => [id, await lookup(id)] as const));
  return new Map(found);
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
