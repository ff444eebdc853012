import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { SOURCES } from '../schemas/events/contract.js';

export interface EventRoutingProps {
  readonly busName: string;
  /** How long the archive keeps events for replay. @default 30 days */
  readonly archiveRetention?: Duration;
  /** @default true */
  readonly retain?: boolean;
}

/** The EventBridge bus every capability talks through, with an archive of everything our sources put on it. */
export class EventRouting extends Construct {
  public readonly bus: EventBus;
  public readonly archive: Archive;

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: props.busName });
    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: Object.values(SOURCES) },
      retention: props.archiveRetention ?? Duration.days(30),
      description: 'Every webhook and API event, for replay after an outage or a consumer bug',
    });
    if (props.retain ?? true) this.archive.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'ArchiveName', { value: this.archive.archiveName });
  }
}
