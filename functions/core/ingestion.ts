/**
 * Webhook ingestion (docs/architecture.md): a verified delivery from Meta becomes one
 * bus event per message, per status and per template/number update, each
 * tagged with the connected number it concerns.
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
  type TemplateStatusUpdate,
  WABA_FIELDS,
  changeValueSchemas,
  messageStatus,
  metaId,
  otherFieldValue,
  webhookChange,
  webhookEntry,
} from '../../schemas/meta-webhook.js';
import { inboundMessage, messageContact } from '../../schemas/meta-message.js';
import type * as z from 'zod';

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
  phoneNumberId: string;
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

type ParsedChange =
  | { kind: 'messages'; where: string; wabaId: string; time?: number; value: MessagesValue }
  | { kind: 'update'; where: string; wabaId: string; time?: number; field: string; value: Record<string, unknown>; phoneNumberId?: string };

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
    } else {
      const candidates = change.phoneNumberId ? [byPnid.get(change.phoneNumberId)].filter((r) => r !== undefined) : (byWaba.get(change.wabaId) ?? []);
      updateEvents(change, candidates, receivedAt, result);
    }
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
      changes.push({ kind: 'update', where, wabaId, time, field, value: data, phoneNumberId: pnid?.data });
    });
  });
  return changes;
}

function messagesChangeEvents(change: Extract<ParsedChange, { kind: 'messages' }>, route: NumberRoute | undefined, receivedAt: string, result: Ingestion) {
  const { value, where, wabaId } = change;
  const phoneNumberId = value.metadata.phone_number_id;
  const unrouted = (itemWhere: string, eventId: string) =>
    result.unrouted.push({ where: itemWhere, field: 'messages', wabaId, phoneNumberId, displayPhoneNumber: value.metadata.display_phone_number, eventId });

  const contacts = (value.contacts ?? []).flatMap((raw) => {
    const contact = messageContact.safeParse(raw);
    return contact.success ? [contact.data] : [];
  });
  if (value.errors?.length) result.changeErrors.push({ where, phoneNumberId, errors: value.errors });

  (value.messages ?? []).forEach((raw, i) => {
    const itemWhere = `${where}.value.messages[${i}]`;
    const parsed = inboundMessage.safeParse(raw);
    if (!parsed.success) {
      result.invalid.push({ where: itemWhere, field: 'messages', issues: issuesOf(parsed.error) });
      return;
    }
    const message = parsed.data;
    if (!route) {
      unrouted(itemWhere, message.id);
      return;
    }
    // The sender's contact entry; a change about one sender often lists just that one, unkeyed.
    const contact =
      contacts.find((c) => (message.from && c.wa_id === message.from) || (message.from_user_id && c.user_id === message.from_user_id)) ??
      (contacts.length === 1 ? contacts[0] : undefined);
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
