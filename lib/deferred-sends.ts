import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.js';

export interface DeferredSendsProps {
  /** Where a deferred round goes when it is due: the broadcast send queue. */
  readonly sendQueue: IQueue;
  /** e.g. `whatsapp-dev`: names the schedule group. */
  readonly prefix: string;
  /** Keep the group (and its pending schedules) when the stack goes. */
  readonly retain: boolean;
}

/**
 * Deferred broadcast rounds (docs/quotas.md, "Portfolio messaging limit"):
 * the sender creates one EventBridge Scheduler one-time schedule per chunk
 * round the messaging limit deferred, in this group; when due the scheduler
 * sends the round's chunk message to the send queue, assuming this role.
 * What it cannot deliver after its retries goes to the dead-letter queue.
 * Pending schedules are state: the group lives in the stateful stack.
 */
export class DeferredSends extends Construct {
  public readonly group: ScheduleGroup;
  public readonly role: Role;
  public readonly dlq: Queue;
  private readonly groupName: string;

  constructor(scope: Construct, id: string, props: DeferredSendsProps) {
    super(scope, id);
    this.groupName = `${props.prefix}-deferred-sends`;
    this.group = new ScheduleGroup(this, 'Group', {
      scheduleGroupName: this.groupName,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.dlq = new Queue(this, 'Dlq', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue (schedules the scheduler could not deliver).' });
    const account = Stack.of(this).account;
    this.role = new Role(this, 'Role', {
      description: 'Assumed by EventBridge Scheduler to put deferred broadcast rounds on the send queue',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account }, ArnLike: { 'aws:SourceArn': this.schedulesArn() } },
      }),
    });
    props.sendQueue.grantSendMessages(this.role);
    this.dlq.grantSendMessages(this.role);
  }

  /** The sender may create schedules in the group and hand them the role; the settings it reads are set. */
  bindScheduler(fn: AppFunction, sendQueue: IQueue): void {
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['scheduler:CreateSchedule'], resources: [this.schedulesArn()] }));
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }));
    fn.fn.addEnvironment('DEFERRED_SENDS_GROUP', this.group.scheduleGroupName);
    fn.fn.addEnvironment('DEFERRED_SENDS_ROLE_ARN', this.role.roleArn);
    fn.fn.addEnvironment('DEFERRED_SENDS_TARGET_ARN', sendQueue.queueArn);
    fn.fn.addEnvironment('DEFERRED_SENDS_DLQ_ARN', this.dlq.queueArn);
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/*]`,
      reason: 'Schedules are named per chunk round at run time; the grant is narrowed to the deferred-sends group.',
    });
  }

  /** Every schedule of the group (names are made at run time). */
  private schedulesArn(): string {
    const stack = Stack.of(this);
    return stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` });
  }
}
