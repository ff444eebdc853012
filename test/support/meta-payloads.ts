/**
 * Meta's webhook deliveries for tests, in the shape Meta sends them: an
 * `entry` per WABA, a `messages` change per number, its `metadata` naming the
 * number. One place builds that envelope; each test says only what it carries.
 */
export interface MetaNumber {
  displayPhoneNumber: string;
  phoneNumberId: string;
  wabaId: string;
}

/** What a `messages` change carries besides `messaging_product` and `metadata`. */
export interface MessagesValue {
  contacts?: { profile: { name: string }; wa_id: string }[];
  messages?: Record<string, unknown>[];
  statuses?: Record<string, unknown>[];
}

/** One number's `messages` change. */
export function messagesChange(number: MetaNumber, value: MessagesValue) {
  return {
    field: 'messages',
    value: { messaging_product: 'whatsapp', metadata: { display_phone_number: number.displayPhoneNumber, phone_number_id: number.phoneNumberId }, ...value },
  };
}

/** A delivery of one change per number (the numbers of one WABA in one entry, as Meta batches them). */
export function messagesDelivery(...changes: [MetaNumber, MessagesValue][]) {
  const entries = new Map<string, ReturnType<typeof messagesChange>[]>();
  for (const [number, value] of changes) entries.set(number.wabaId, [...(entries.get(number.wabaId) ?? []), messagesChange(number, value)]);
  return { object: 'whatsapp_business_account', entry: [...entries].map(([id, entryChanges]) => ({ id, changes: entryChanges })) };
}

/** Now, as Meta writes a `timestamp`: epoch seconds in a string. */
export function metaNow(): string {
  return String(Math.floor(Date.now() / 1000));
}

/** The value of one person's inbound texts: their contact and each message (`timestamp` now unless given). */
export function inboundTexts(from: string, name: string, texts: { id: string; body: string; timestamp?: unknown }[]): MessagesValue {
  return {
    contacts: [{ profile: { name }, wa_id: from }],
    messages: texts.map((t) => ({ from, id: t.id, timestamp: t.timestamp ?? metaNow(), type: 'text', text: { body: t.body } })),
  };
}
