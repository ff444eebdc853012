/**
 * `EventBridgePublisher` under injected faults (aws-sdk-client-mock):
 * batching within PutEvents' limits, retrying only failed entries, retrying
 * throttled requests, and giving up (so the webhook answers 500) when the bus
 * keeps refusing.
 */
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../schemas/events/contract.js';
import { EventBridgePublisher, PUT_EVENTS_MAX_BYTES, type PublishProblem, putEventsEntrySize } from '../../functions/adapters/eventbridge/publisher.js';
import { EventsNotPublished } from '../../functions/core/errors.js';

const eventBridge = mockClient(EventBridgeClient);
// Unit files share a process: the class is mocked for this file only.
afterAll(() => eventBridge.restore());
let sleeps: number[];
let problems: PublishProblem[];

beforeEach(() => {
  eventBridge.reset();
  sleeps = [];
  problems = [];
});

function publisher(maxAttempts = 4) {
  return new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'whatsapp-bus', {
    maxAttempts,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
    onProblem: (problem) => problems.push(problem),
  });
}

const events = (n: number, padding = 0): BusEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    source: 'whatsapp.webhook',
    'detail-type': 'WhatsApp Message Received',
    detail: { eventId: `wamid.${i}`, accountId: 'acc_1', whatsapp_phno: '15550001001', pad: 'x'.repeat(padding) },
  }));

const sentRequests = () => eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
const idsOf = (entries: PutEventsRequestEntry[]) => entries.map((entry) => JSON.parse(entry.Detail!).eventId as string);

const throttled = () =>
  new EventBridgeServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });

describe('EventBridgePublisher', () => {
  it('sends 25 events as requests of 10, 10 and 5 entries on the configured bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(25));
    expect(sentRequests().map((entries) => entries.length)).toEqual([10, 10, 5]);
    expect(sentRequests().flat().every((entry) => entry.EventBusName === 'whatsapp-bus' && entry.Source === 'whatsapp.webhook')).toBe(true);
  });

  it('keeps every request within 256 KB', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(9, 60_000));
    const sizes = sentRequests().map((entries) => entries.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0));
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    expect(sentRequests().flat()).toHaveLength(9);
  });

  it('sends nothing for no events', async () => {
    await publisher().publish([]);
    expect(sentRequests()).toEqual([]);
  });

  it('retries only the entries EventBridge reports as failed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'e0' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'e2' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'r1' }, { EventId: 'r3' }] });
    await publisher().publish(events(4));
    expect(sentRequests().map(idsOf)).toEqual([['wamid.0', 'wamid.1', 'wamid.2', 'wamid.3'], ['wamid.1', 'wamid.3']]);
  });

  it('backs off exponentially with full jitter between attempts', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    await expect(publisher(4).publish(events(1))).rejects.toBeInstanceOf(EventsNotPublished);
    // random() = 1 shows the ceilings: 50 ms × 2^attempt.
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('rejects with EventsNotPublished when entries keep failing, after the bounded attempts', async () => {
    // EventBridge answers every entry, in order; wamid.1 always fails.
    eventBridge.on(PutEventsCommand).callsFake(({ Entries }: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: Entries.filter((entry) => idsOf([entry])[0] === 'wamid.1').length,
      Entries: Entries.map((entry) => (idsOf([entry])[0] === 'wamid.1' ? { ErrorCode: 'InternalFailure' } : { EventId: 'ok' })),
    }));
    const error = await publisher(3).publish(events(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventsNotPublished);
    expect((error as EventsNotPublished).failed).toBe(1);
    expect((error as EventsNotPublished).statusCode).toBe(500);
    expect(sentRequests().map(idsOf)).toEqual([['wamid.0', 'wamid.1'], ['wamid.1'], ['wamid.1']]);
  });

  it('resends the whole request when the results do not line up with the entries', async () => {
    eventBridge.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] }).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(3));
    expect(sentRequests().map((entries) => entries.length)).toEqual([3, 3]);
  });

  it('retries a throttled request whole and succeeds', async () => {
    eventBridge.on(PutEventsCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(3));
    expect(sentRequests().map(idsOf)).toEqual([
      ['wamid.0', 'wamid.1', 'wamid.2'],
      ['wamid.0', 'wamid.1', 'wamid.2'],
      ['wamid.0', 'wamid.1', 'wamid.2'],
    ]);
  });

  it('retries a 5xx answer', async () => {
    const unavailable = new EventBridgeServiceException({ name: 'InternalException', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'boom' });
    eventBridge.on(PutEventsCommand).rejectsOnce(unavailable).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(1));
    expect(sentRequests()).toHaveLength(2);
  });

  it('rejects when throttling outlasts the attempts', async () => {
    eventBridge.on(PutEventsCommand).rejects(throttled());
    await expect(publisher(3).publish(events(2))).rejects.toBeInstanceOf(EventsNotPublished);
    expect(sentRequests()).toHaveLength(3);
  });

  it('does not retry a request error another attempt cannot fix', async () => {
    const denied = new EventBridgeServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'no' });
    eventBridge.on(PutEventsCommand).rejects(denied);
    await expect(publisher().publish(events(1))).rejects.toBeInstanceOf(EventsNotPublished);
    expect(sentRequests()).toHaveLength(1);
  });

  it('does not retry an entry refused for good (malformed detail)', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail' }] });
    await expect(publisher().publish(events(1))).rejects.toBeInstanceOf(EventsNotPublished);
    expect(sentRequests()).toHaveLength(1);
  });

  it('publishes the rest, reports the event and then rejects when one event is over 256 KB', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const [huge] = events(1, PUT_EVENTS_MAX_BYTES);
    const error = await publisher()
      .publish([...events(2), huge!])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventsNotPublished);
    expect(sentRequests().map(idsOf)).toEqual([['wamid.0', 'wamid.1']]);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'oversize', eventId: 'wamid.0' }));
  });

  it('tells what failed, attempt by attempt', async () => {
    eventBridge.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] }).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(events(1));
    expect(problems).toEqual([
      {
        kind: 'entry-failed',
        eventId: 'wamid.0',
        accountId: 'acc_1',
        whatsapp_phno: '15550001001',
        detailType: 'WhatsApp Message Received',
        errorCode: 'ThrottlingException',
        attempt: 1,
        final: false,
      },
    ]);
  });
});

describe('putEventsEntrySize', () => {
  it('counts Source, DetailType, Detail and Resources in UTF-8 bytes, plus 14 for Time', () => {
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'c', Detail: '{"x":"á"}', Resources: ['r'] })).toBe(2 + 1 + 10 + 1);
    expect(putEventsEntrySize({ Source: 'ab', Time: new Date() })).toBe(16);
  });
});
