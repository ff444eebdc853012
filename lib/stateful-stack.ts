import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RULES } from '../schemas/routes.js';
import { type StageConfig, isDevStage } from './config.js';
import { CONSUMERS, type ConsumerName, SENDER } from './consumers.js';
import { DataTable } from './data-table.js';
import { DeferredSends } from './deferred-sends.js';
import { DurableQueue } from './durable-queue.js';
import { EventRouting } from './event-routing.js';
import { MediaBucket } from './media-bucket.js';
import { OutgoingWebhookQueue } from './outgoing-webhooks.js';
import { WhatsAppSecrets } from './secrets.js';
import { SequenceSchedules } from './sequence-schedules.js';

/**
 * What holds state: the table, the bus and its archive, the queues (each with
 * a DLQ) and the secrets. Deployed apart so the stateless stack (functions,
 * API) can be replaced freely.
 */
export class StatefulStack extends Stack {
  public readonly data: DataTable;
  public readonly routing: EventRouting;
  public readonly queues: Record<ConsumerName, DurableQueue>;
  public readonly sendQueue: DurableQueue;
  /** The schedule group, role and DLQ of broadcast rounds deferred by the portfolio's messaging limit. */
  public readonly deferredSends: DeferredSends;
  /** The schedule group, role and DLQ of sequence steps: due steps go to the automation queue. */
  public readonly sequenceSchedules: SequenceSchedules;
  public readonly secrets: WhatsAppSecrets;
  /** The outgoing-webhook delivery queue (one message per attempt) and its DLQ. */
  public readonly outgoingWebhooks: OutgoingWebhookQueue;
  /** Media files: inbound ones (media consumer) and agents' uploads (API), behind presigned URLs. */
  public readonly media: MediaBucket;

  constructor(scope: Construct, id: string, props: StackProps & { readonly config: StageConfig }) {
    super(scope, id, props);
    const { config } = props;
    const retain = !isDevStage(config);
    this.data = new DataTable(this, 'Data', { retain });
    this.routing = new EventRouting(this, 'Routing', {
      busName: `whatsapp-${config.stage}`,
      archiveRetention: Duration.days(config.archiveRetentionDays),
      retain,
    });
    this.queues = Object.fromEntries(
      Object.entries(CONSUMERS).map(([name, consumer]) => [
        name,
        new DurableQueue(this, `${pascal(name)}Queue`, {
          consumerTimeout: consumer.timeout,
          subscribe: { bus: this.routing.bus, pattern: RULES[consumer.rule], description: consumer.description },
        }),
      ]),
    ) as Record<ConsumerName, DurableQueue>;
    this.sendQueue = new DurableQueue(this, 'SendQueue', { consumerTimeout: SENDER.timeout });
    this.deferredSends = new DeferredSends(this, 'DeferredSends', { sendQueue: this.sendQueue.queue, prefix: `whatsapp-${config.stage}`, retain });
    this.sequenceSchedules = new SequenceSchedules(this, 'SequenceSchedules', { automationQueue: this.queues.automation.queue, prefix: `whatsapp-${config.stage}`, retain });
    this.secrets = new WhatsAppSecrets(this, 'Secrets', { prefix: `whatsapp-${config.stage}` });
    this.outgoingWebhooks = new OutgoingWebhookQueue(this, 'OutgoingWebhooks');
    this.media = new MediaBucket(this, 'Media', { prefix: `whatsapp-${config.stage}`, retain });
  }
}

function pascal(name: string) {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
