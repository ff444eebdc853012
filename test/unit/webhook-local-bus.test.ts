/**
 * `functions/adapters/local/event-bus.ts`: the local EventBridge → SQS → Lambda path. Routes with the
 * shared patterns, hands consumers SQS records of EventBridge events,
 * redelivers what failed, and dead-letters what keeps failing.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import { EventsNotPublished } from '../../functions/core/errors.js';
import { LocalBus } from '../../functions/adapters/local/event-bus.js';

const received = (eventId: string, detail: Record<string, unknown> = {}) => ({
  source: SOURCES.webhook,
  'detail-type': DETAIL_TYPES.messageReceived,
  detail: { eventId, accountId: 'acc_1', whatsapp_phno: '15550001001', message: { id: eventId, type: 'text' }, ...detail },
});
const status = (eventId: string, broadcastId?: string) => ({
  source: SOURCES.webhook,
  'detail-type': DETAIL_TYPES.messageStatusUpdated,
  detail: { eventId, accountId: 'acc_1', whatsapp_phno: '15550001001', ...(broadcastId ? { broadcastId } : {}) },
});

const eventIds = (event: SQSEvent) => event.Records.map((record) => JSON.parse(record.body).detail.eventId as string);

function newBus(lines: string[] = []) {
  return new LocalBus({ retryDelayMs: 1, log: (line) => lines.push(line) });
}

describe('LocalBus', () => {
  it('records every event with the rules it matched', async () => {
    const bus = newBus();
    await bus.publish([received('wamid.1'), status('wamid.1:read', 'brd_1')]);
    expect(bus.recentEvents().map((r) => [r.event.detail, r.rules])).toEqual([
      [expect.objectContaining({ eventId: 'wamid.1' }), ['inbox', 'automation', 'integrations', 'outgoingWebhooks']],
      [expect.objectContaining({ eventId: 'wamid.1:read' }), ['inbox', 'outgoingWebhooks', 'broadcast']],
    ]);
  });

  it('delivers SQS records whose body is the EventBridge event, to the consumers of matching rules only', async () => {
    const bus = newBus();
    const got: Record<string, SQSEvent[]> = { inbox: [], broadcast: [] };
    bus.register('inbox', async (event) => void got.inbox!.push(event));
    bus.register('broadcast', async (event) => void got.broadcast!.push(event));
    await bus.publish([received('wamid.1'), status('wamid.2:sent', 'brd_1')]);
    await bus.drain();
    expect(got.inbox!.flatMap(eventIds)).toEqual(['wamid.1', 'wamid.2:sent']);
    expect(got.broadcast!.flatMap(eventIds)).toEqual(['wamid.2:sent']);
    const record = got.inbox![0]!.Records[0]!;
    expect(record).toMatchObject({ eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } });
    expect(JSON.parse(record.body)).toMatchObject({ version: '0', source: 'whatsapp.webhook', 'detail-type': DETAIL_TYPES.messageReceived, id: expect.any(String) });
  });

  it('delivers in batches of at most 10 records', async () => {
    const bus = newBus();
    const sizes: number[] = [];
    bus.register('automation', async (event) => void sizes.push(event.Records.length));
    await bus.publish(Array.from({ length: 23 }, (_, i) => received(`wamid.${i}`)));
    await bus.drain();
    expect(sizes).toEqual([10, 10, 3]);
  });

  it('redelivers only the records a consumer reported as failed', async () => {
    const bus = newBus();
    const calls: string[][] = [];
    bus.register('inbox', async (event) => {
      calls.push(eventIds(event));
      const failed = calls.length === 1 ? event.Records.filter((r) => JSON.parse(r.body).detail.eventId === 'wamid.2') : [];
      return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await bus.publish([received('wamid.1'), received('wamid.2'), received('wamid.3')]);
    await bus.drain();
    expect(calls).toEqual([['wamid.1', 'wamid.2', 'wamid.3'], ['wamid.2']]);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('counts receives in ApproximateReceiveCount and keeps the message id', async () => {
    const bus = newBus();
    const seen: [string, string][] = [];
    bus.register('inbox', async (event) => {
      const record = event.Records[0]!;
      seen.push([record.messageId, record.attributes.ApproximateReceiveCount]);
      if (seen.length < 2) throw new Error('not yet');
    });
    await bus.publish([received('wamid.1')]);
    await bus.drain();
    expect(seen.map(([, count]) => count)).toEqual(['1', '2']);
    expect(seen[0]![0]).toBe(seen[1]![0]);
  });

  it('dead-letters a record after 3 failed receives and says so on the console', async () => {
    const lines: string[] = [];
    const bus = newBus(lines);
    let calls = 0;
    bus.register('automation', async () => {
      calls++;
      throw new Error('automation is down');
    });
    await bus.publish([received('wamid.DLQ')]);
    await bus.drain();
    expect(calls).toBe(3);
    expect(bus.deadLetters()).toEqual([
      expect.objectContaining({ rule: 'automation', attempts: 3, error: 'automation is down', event: expect.objectContaining({ detail: expect.objectContaining({ eventId: 'wamid.DLQ' }) }) }),
    ]);
    expect(lines.some((line) => line.includes('dead letter') && line.includes('wamid.DLQ'))).toBe(true);
  });

  it('keeps one failing consumer from affecting another rule', async () => {
    const bus = newBus();
    const inbox: string[] = [];
    bus.register('inbox', async (event) => void inbox.push(...eventIds(event)));
    bus.register('automation', async () => {
      throw new Error('down');
    });
    await bus.publish([received('wamid.1')]);
    await bus.drain();
    expect(inbox).toEqual(['wamid.1']);
    expect(bus.deadLetters().map((d) => d.rule)).toEqual(['automation']);
  });

  it('refuses to register on a rule that does not exist', () => {
    expect(() => newBus().register('billing', async () => undefined)).toThrow(/Unknown rule/);
  });

  it('stops delivering to a consumer once unregistered', async () => {
    const bus = newBus();
    const got: string[] = [];
    const unregister = bus.register('inbox', async (event) => void got.push(...eventIds(event)));
    unregister();
    await bus.publish([received('wamid.1')]);
    await bus.drain();
    expect(got).toEqual([]);
    expect(bus.recentEvents()).toHaveLength(1);
  });

  it('refuses an event larger than EventBridge accepts, like PutEvents', async () => {
    const bus = newBus();
    await expect(bus.publish([received('wamid.BIG', { pad: 'x'.repeat(300 * 1024) })])).rejects.toBeInstanceOf(EventsNotPublished);
    expect(bus.recentEvents()).toEqual([]);
  });

  it('keeps only the most recent events', async () => {
    const bus = new LocalBus({ recentLimit: 5 });
    await bus.publish(Array.from({ length: 8 }, (_, i) => received(`wamid.${i}`)));
    expect(bus.recentEvents().map((r) => (r.event.detail as { eventId: string }).eventId)).toEqual(['wamid.3', 'wamid.4', 'wamid.5', 'wamid.6', 'wamid.7']);
  });
});
