/**
 * What every bus event contract is (docs/events.md): its source, detail type,
 * version and the zod schema of its detail. Each detail type has its module
 * beside this one (`message-received.ts`, …) with its versioned example in
 * `test/fixtures/events/{name}.v{version}.json`. Producers build events with
 * `busEvent(contract, detail)`; consumers parse details with `contract.schema`.
 */
import * as z from 'zod';

export const SOURCES = { webhook: 'whatsapp.webhook', api: 'whatsapp.api' } as const;
export type Source = (typeof SOURCES)[keyof typeof SOURCES];

export interface EventContract<D extends string = string, T extends z.ZodType = z.ZodType> {
  /** The module's and the example's name: `test/fixtures/events/{name}.v{version}.json`. */
  readonly name: string;
  readonly source: Source;
  readonly detailType: D;
  /** Kept in the contract, not sent: a breaking change to the schema gets a new version and consumers that parse both. */
  readonly version: number;
  readonly schema: T;
}

/** An event as it travels on the bus (EventBridge's envelope fields we use). */
export interface BusEvent<D = unknown> {
  source: string;
  'detail-type': string;
  detail: D;
  id?: string;
  time?: string;
}

/** The EventBridge envelope as it arrives in an SQS record's body: every bus consumer parses it first. */
export const busEnvelope = z.looseObject({
  source: z.string(),
  'detail-type': z.string(),
  detail: z.unknown(),
  id: z.string().optional(),
  time: z.string().optional(),
});

/** The envelope a contract's producer puts on the bus. */
export type EventOf<C extends EventContract> = { source: C['source']; 'detail-type': C['detailType']; detail: z.infer<C['schema']> };

/** Wraps a detail in its contract's envelope: the one way producers build an event. */
export function busEvent<C extends EventContract>(contract: C, detail: z.infer<C['schema']>): EventOf<C> {
  return { source: contract.source, 'detail-type': contract.detailType, detail } as EventOf<C>;
}
