import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { DynamoNumberRepository } from '../adapters/dynamo/number-repository.js';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.js';
import { type BroadcastConfig, broadcastConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import type { SenderDeps } from '../core/sender.js';

/** The sender's adapters over one table: the Lambda handler, the local runtime and the tests build them here. */
export function createSenderDeps(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: { messaging: Pick<MessageSender, 'sendTemplate'>; events: EventPublisher; clock?: Clock; config?: BroadcastConfig; sleep?: (ms: number) => Promise<void> },
): SenderDeps {
  const clock = options.clock ?? systemClock;
  const config = options.config ?? broadcastConfig();
  const quotas = new DynamoQuotaStore(doc, tableName, clock);
  return {
    accounts: new DynamoAccountRepository(doc, tableName, quotas),
    numbers: new DynamoNumberRepository(doc, tableName, quotas, clock),
    broadcasts: new DynamoBroadcastRepository(doc, tableName, quotas),
    credits: quotas,
    messaging: options.messaging,
    events: options.events,
    clock,
    rateCard: config.PRICING_RATE_CARD,
    settings: {
      throughputPerSecond: config.SENDER_THROUGHPUT_PER_SECOND,
      ...(config.SENDER_CONCURRENCY ? { concurrency: config.SENDER_CONCURRENCY } : {}),
      maxThrottleRetries: config.SENDER_MAX_THROTTLE_RETRIES,
      staleSendingSeconds: config.SENDER_STALE_SENDING_SECONDS,
      creditsLowThresholdMicros: config.CREDITS_LOW_THRESHOLD_MICROS,
    },
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
}
