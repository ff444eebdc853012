/**
 * `functions/commons/publisher.ts`: the bus is chosen by configuration, so the
 * webhook handler is the same code in AWS (EventBridge) and locally (the
 * runtime's in-process bus).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalBus } from '../../local/bus.js';

// Each test gets a fresh module: the configured publisher is kept per container.
const load = () => import('../../functions/commons/publisher.js');

beforeEach(() => {
  vi.resetModules();
});

describe('eventPublisher', () => {
  it('is EventBridge when EVENT_BUS_NAME is set', async () => {
    const { eventPublisher } = await load();
    const { EventBridgePublisher } = await import('../../functions/adapters/eventbridge/publisher.js');
    expect(eventPublisher({ EVENT_BUS_NAME: 'whatsapp-bus', AWS_REGION: 'us-east-1' })).toBeInstanceOf(EventBridgePublisher);
  });

  it('is the same publisher for every call in a container', async () => {
    const { eventPublisher } = await load();
    const env = { EVENT_BUS_NAME: 'whatsapp-bus', AWS_REGION: 'us-east-1' };
    expect(eventPublisher(env)).toBe(eventPublisher(env));
  });

  it('is the injected bus when the local runtime set one, whatever the configuration', async () => {
    const { eventPublisher, setPublisher } = await load();
    const bus = new LocalBus();
    setPublisher(bus);
    expect(eventPublisher({ EVENT_BUS_NAME: 'whatsapp-bus' })).toBe(bus);
  });

  it('fails naming EVENT_BUS_NAME when no bus is configured', async () => {
    const { eventPublisher } = await load();
    expect(() => eventPublisher({})).toThrow(/EVENT_BUS_NAME/);
  });
});
