import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.js';
import type { DurableQueue } from './durable-queue.js';

/** Namespace of the functions' Powertools (EMF) metrics; each function's `service` dimension is its folder name. */
export const METRICS_NAMESPACE = 'WhatsAppMultiNumber';

export interface ObservabilityProps {
  readonly stage: string;
  readonly functions: Record<string, AppFunction>;
  readonly queues: Record<string, DurableQueue>;
  /** Dead-letter queues of no consumer queue: EventBridge Scheduler's (deferred sends, sequence steps). */
  readonly deadLetterQueues?: Record<string, IQueue>;
  readonly httpApi: HttpApi;
  readonly alarmEmail?: string;
}

/**
 * Alarms on what must never go unnoticed (a DLQ with anything in it, function
 * errors and throttles, webhook 5xx, unrouted deliveries, PutEvents failures,
 * credit pools near zero) to one SNS topic, and a dashboard of the flow:
 * deliveries → events → consumers → sends.
 */
export class Observability extends Construct {
  public readonly topic: Topic;
  public readonly alarms: Alarm[] = [];
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', {
      displayName: `WhatsApp ${props.stage} alarms`,
      masterKey: new Key(this, 'AlarmsKey', { enableKeyRotation: true, description: 'Encrypts the alarm topic' }),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (name: string, metric: Metric | MathExpression, threshold: number, description: string) => {
      const created = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };
    const custom = (service: string, metricName: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(5) });

    for (const [name, queue] of Object.entries(props.queues)) {
      for (const [kind, dlq] of [['Dlq', queue.dlq], ['TargetDlq', queue.targetDlq]] as const) {
        alarm(`${name}${kind}NotEmpty`, dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1, `${name}: messages in ${kind === 'Dlq' ? 'the consumer' : 'the rule target'} dead-letter queue. See README "Runbook: a DLQ alarm fired (redrive)".`);
      }
    }
    for (const [name, dlq] of Object.entries(props.deadLetterQueues ?? {})) {
      alarm(`${name}DlqNotEmpty`, dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1, `${name}: messages in the scheduler dead-letter queue (schedules EventBridge Scheduler could not deliver). See README "Runbook: a DLQ alarm fired (redrive)".`);
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.fn.metricErrors({ period: Duration.minutes(5) }), 1, `${name}: function errors`);
      alarm(`${name}Throttles`, fn.fn.metricThrottles({ period: Duration.minutes(5) }), 1, `${name}: throttled invocations`);
    }
    const webhook5xxRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { errors: props.httpApi.metricServerError({ period: Duration.minutes(5) }), requests: props.httpApi.metricCount({ period: Duration.minutes(5) }) },
      label: '5xx %',
      period: Duration.minutes(5),
    });
    alarm('Api5xxRate', webhook5xxRate, 1, 'HTTP API (webhook and dashboard) 5xx rate ≥ 1%: Meta redelivers, but something is failing');
    alarm('UnroutedDeliveries', custom('webhook', 'UnroutedEvents'), 1, 'Deliveries for a phone_number_id connected to no account (a number removed but still subscribed?)');
    alarm('PublishFailures', custom('webhook', 'PublishFailures'), 1, 'PutEvents failed after retries: the webhook answered 500 and Meta will redeliver');
    alarm('CreditsLow', custom('sender', 'CreditsLow'), 1, "An account's credit pool crossed the low threshold");

    const graph = (title: string, metrics: (Metric | MathExpression)[]) => new GraphWidget({ title, left: metrics, width: 8, height: 6 });
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `whatsapp-${props.stage}` });
    this.dashboard.addWidgets(new TextWidget({ markdown: '# WhatsApp multi-number: deliveries → events → consumers → sends', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      graph('Webhook deliveries', [custom('webhook', 'Deliveries'), custom('webhook', 'InvalidSignatures'), custom('webhook', 'UnroutedEvents')]),
      graph('Events on the bus', [custom('webhook', 'EventsPublished'), custom('webhook', 'PublishFailures')]),
      graph('HTTP API', [props.httpApi.metricCount(), props.httpApi.metricClientError(), props.httpApi.metricServerError()]),
    );
    this.dashboard.addWidgets(
      ...Object.entries(props.functions).map(([name, fn]) => graph(`${name}: invocations / errors`, [fn.fn.metricInvocations(), fn.fn.metricErrors(), fn.fn.metricThrottles()])),
    );
    this.dashboard.addWidgets(
      ...Object.entries(props.queues).map(([name, q]) => graph(`${name} queue: backlog / DLQ`, [q.queue.metricApproximateNumberOfMessagesVisible(), q.queue.metricApproximateAgeOfOldestMessage(), q.dlq.metricApproximateNumberOfMessagesVisible()])),
    );
  }
}
