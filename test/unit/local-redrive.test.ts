/**
 * The local runtime's DLQ redrive and archive replay, on the adapters
 * (`functions/adapters/local/event-bus.ts`, `send-queue.ts`,
 * `webhook-delivery-queue.ts`): a redriven dead letter goes back to the
 * consumer it failed on only (not to the rule's other consumers), with a fresh
 * receive count, leaves the dead letters, and comes back to them if it fails
 * again; `rule` narrows a bus redrive; a dead letter whose consumer is gone
 * stays. A replay re-sends the recorded events of [from, to) with the same id
 * and a `replay-name`, to the rules' consumers, without recording them again.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import type { WebhookDeliveryMessage } from '../../schemas/webhook-subscriptions.js';
import { LocalBus } from '../../functions/adapters/local/event-bus.js';
import { LocalSendQueue } from '../../functions/adapters/local/send-queue.js';
import { LocalWebhookDeliveryQueue } from '../../functions/adapters/local/webhook-delivery-queue.js';

const received = (eventId: string, time?: string) => ({
  source: SOURCES.webhook,
  'detail-type': DETAIL_TYPES.messageReceived,
  detail: { eventId, accountId: 'acc_1', whatsapp_phno: '15550001001', message: { id: eventId, type: 'text' } },
  ...(time ? { time } : {}),
});

const bodies = (event: SQSEvent) => event.Records.map((r) => JSON.parse(r.body));
const receiveCounts = (event: SQSEvent) => event.Records.map((r) => r.attributes.ApproximateReceiveCount);

/** A consumer that fails while `broken` holds, and keeps every batch it was handed. */
function switchable() {
  const state = { broken: true, batches: [] as SQSEvent[], done: [] as string[] };
  const consumer = async (event: SQSEvent) => {
    state.batches.push(event);
    if (state.broken) throw new Error('database unavailable');
    for (const body of bodies(event)) state.done.push(body.detail?.eventId ?? body.kind);
  };
  return { state, consumer };
}

describe('LocalBus.redrive', () => {
  it('redelivers each dead letter to the consumer it failed on, once, with a fresh receive count', async () => {
    const bus = new LocalBus({ retryDelayMs: 1, maxReceiveCount: 3 });
    const failing = switchable();
    const healthy: string[] = [];
    bus.register('automation', failing.consumer, 'automation');
    // Another consumer of the same rule got the events fine: a redrive must not hand them to it again.
    bus.register('automation', async (event) => void healthy.push(...bodies(event).map((b) => b.detail.eventId)), 'automation-audit');
    await bus.publish([received('wamid.1'), received('wamid.2')]);
    await bus.drain();
    expect(bus.deadLetters().map((d) => [d.consumer, d.event.detail])).toEqual([
      ['automation', expect.objectContaining({ eventId: 'wamid.1' })],
      ['automation', expect.objectContaining({ eventId: 'wamid.2' })],
    ]);
    expect(failing.state.batches.flatMap(receiveCounts)).toEqual(['1', '1', '2', '2', '3', '3']);
    const ids = bus.deadLetters().map((d) => d.event.id);

    failing.state.broken = false;
    failing.state.batches.length = 0;
    expect(bus.redrive()).toBe(2);
    expect(bus.deadLetters()).toEqual([]);
    await bus.drain();

    expect(failing.state.done).toEqual(['wamid.1', 'wamid.2']);
    expect(failing.state.batches.flatMap(receiveCounts)).toEqual(['1', '1']);
    // The very events (same EventBridge id), as SQS moves the very messages.
    expect(failing.state.batches.flatMap(bodies).map((b) => b.id)).toEqual(ids);
    expect(healthy).toEqual(['wamid.1', 'wamid.2']);
    expect(bus.redrive()).toBe(0);
  });

  it('puts a redriven letter that fails again back in the dead letters, after its receives', async () => {
    const bus = new LocalBus({ retryDelayMs: 1, maxReceiveCount: 2 });
    const failing = switchable();
    bus.register('inbox', failing.consumer, 'inbox');
    await bus.publish([received('wamid.9')]);
    await bus.drain();
    expect(bus.redrive()).toBe(1);
    await bus.drain();
    expect(bus.deadLetters()).toHaveLength(1);
    expect(bus.deadLetters()[0]).toMatchObject({ consumer: 'inbox', attempts: 2, error: 'database unavailable' });
    expect(failing.state.batches).toHaveLength(4);
  });

  it("redrives one rule's dead letters with {rule}, and keeps those whose consumer is gone", async () => {
    const bus = new LocalBus({ retryDelayMs: 1, maxReceiveCount: 1 });
    const inbox = switchable();
    const automation = switchable();
    const integration = switchable();
    bus.register('inbox', inbox.consumer, 'inbox');
    bus.register('automation', automation.consumer, 'automation');
    const detach = bus.register('integrations', integration.consumer, 'integration');
    await bus.publish([received('wamid.5')]);
    await bus.drain();
    expect(bus.deadLetters().map((d) => d.rule).sort()).toEqual(['automation', 'inbox', 'integrations']);
    for (const s of [inbox, automation, integration]) s.state.broken = false;
    detach();

    expect(bus.redrive({ rule: 'inbox' })).toBe(1);
    await bus.drain();
    expect(inbox.state.done).toEqual(['wamid.5']);
    expect(automation.state.done).toEqual([]);
    expect(bus.deadLetters().map((d) => d.rule).sort()).toEqual(['automation', 'integrations']);

    expect(bus.redrive()).toBe(1);
    await bus.drain();
    expect(automation.state.done).toEqual(['wamid.5']);
    // No consumer to give it to: it waits in the dead letters.
    expect(bus.deadLetters().map((d) => d.rule)).toEqual(['integrations']);
    expect(integration.state.done).toEqual([]);
  });

  it('redrives a timer message put on a queue (not an EventBridge event) as it was', async () => {
    const bus = new LocalBus({ retryDelayMs: 1, maxReceiveCount: 1 });
    const failing = switchable();
    bus.register('automation', failing.consumer, 'automation');
    bus.sendToQueue('automation', JSON.stringify({ kind: 'sequence-step-due', due: { enrolmentId: 'enr_1' } }));
    await bus.drain();
    expect(bus.deadLetters()).toHaveLength(1);
    failing.state.broken = false;
    bus.redrive();
    await bus.drain();
    expect(failing.state.done).toEqual(['sequence-step-due']);
    expect(bodies(failing.state.batches.at(-1)!)).toEqual([{ kind: 'sequence-step-due', due: { enrolmentId: 'enr_1' } }]);
  });

  it('refuses to redrive once stopped (nothing would deliver it)', () => {
    const bus = new LocalBus();
    bus.stop();
    expect(() => bus.redrive()).toThrow(/stopped/);
  });
});

describe('LocalBus.replay', () => {
  it('re-sends the events of [from, to) with their id and a replay-name, without recording them again', async () => {
    const bus = new LocalBus({ retryDelayMs: 1 });
    const got: SQSEvent[] = [];
    bus.register('inbox', async (event) => void got.push(event), 'inbox');
    await bus.publish([
      received('wamid.a', '2026-11-27T09:59:59.999Z'),
      received('wamid.b', '2026-11-27T10:00:00.000Z'),
      received('wamid.c', '2026-11-27T11:59:59.999Z'),
      received('wamid.d', '2026-11-27T12:00:00.000Z'),
    ]);
    await bus.drain();
    const original = new Map(got.flatMap(bodies).map((b) => [b.detail.eventId, b.id]));
    got.length = 0;

    expect(bus.replay({ from: '2026-11-27T10:00:00Z', to: '2026-11-27T12:00:00Z', name: 'fix-2026-11-27' })).toBe(2);
    await bus.drain();

    const replayed = got.flatMap(bodies);
    expect(replayed.map((b) => b.detail.eventId)).toEqual(['wamid.b', 'wamid.c']);
    expect(replayed.map((b) => b.id)).toEqual([original.get('wamid.b'), original.get('wamid.c')]);
    expect(replayed.every((b) => b['replay-name'] === 'fix-2026-11-27')).toBe(true);
    expect(bus.recentEvents()).toHaveLength(4);
    expect(bus.replay({ from: '2026-11-28T00:00:00Z', to: '2026-11-29T00:00:00Z' })).toBe(0);
  });

  it('refuses a window that ends before it starts', () => {
    const bus = new LocalBus();
    expect(() => bus.replay({ from: '2026-11-27T12:00:00Z', to: '2026-11-27T10:00:00Z' })).toThrow(/Not a time window/);
  });
});

describe('LocalSendQueue.redrive', () => {
  const chunk = (n: number) => ({ broadcastId: `brd_${n}`, chunk: n }) as unknown as SendChunkMessage;

  it('hands the dead letters to the sender again with a fresh receive count, and a failing one comes back', async () => {
    const queue = new LocalSendQueue({ retryDelayMs: 1, maxReceiveCount: 2 });
    let broken = true;
    const seen: { body: SendChunkMessage; receive: string }[] = [];
    queue.setConsumer(async (event) => {
      const record = event.Records[0]!;
      seen.push({ body: JSON.parse(record.body), receive: record.attributes.ApproximateReceiveCount });
      if (broken && JSON.parse(record.body).chunk !== 3) throw new Error('Graph API 500');
    });
    await queue.enqueue([chunk(1), chunk(2), chunk(3)]);
    await queue.drain();
    expect(queue.deadLetters().map((d) => d.message)).toEqual([chunk(1), chunk(2)]);
    seen.length = 0;

    broken = false;
    expect(queue.redrive()).toBe(2);
    expect(queue.deadLetters()).toEqual([]);
    await queue.drain();
    expect(seen).toEqual([
      { body: chunk(1), receive: '1' },
      { body: chunk(2), receive: '1' },
    ]);
    expect(queue.redrive()).toBe(0);
  });
});

describe('LocalWebhookDeliveryQueue.redrive', () => {
  const message = (n: number): WebhookDeliveryMessage => ({ accountId: 'acc_1', subscriptionId: 'whs_1', deliveryId: `dlv_${n}`, round: 0, attempt: 1 });

  it('hands the dead letters (handler failures and exhausted deliveries alike) to the handler again', async () => {
    const queue = new LocalWebhookDeliveryQueue({ redeliveryMs: 1, maxReceiveCount: 2 });
    let broken = true;
    const seen: { body: WebhookDeliveryMessage; receive: string }[] = [];
    queue.setConsumer(async (event) => {
      const record = event.Records[0]!;
      seen.push({ body: JSON.parse(record.body), receive: record.attributes.ApproximateReceiveCount });
      if (broken) throw new Error('table unavailable');
    });
    await queue.enqueue(message(1), 0);
    await queue.deadLetter(message(2), 'HTTP 500 after 8 attempts');
    await queue.drain();
    expect(queue.deadLetters().map((d) => [d.message.deliveryId, d.reason])).toEqual([
      ['dlv_2', 'HTTP 500 after 8 attempts'],
      ['dlv_1', 'handler failed 2 times: table unavailable'],
    ]);
    seen.length = 0;

    broken = false;
    expect(queue.redrive()).toBe(2);
    expect(queue.deadLetters()).toEqual([]);
    await queue.drain();
    expect(seen.map((s) => [s.body.deliveryId, s.receive]).sort()).toEqual([
      ['dlv_1', '1'],
      ['dlv_2', '1'],
    ]);
  });
});
