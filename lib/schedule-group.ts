import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.js';

export interface OneTimeSchedulesProps {
  /** Where a schedule puts its message when it is due. */
  readonly targetQueue: IQueue;
  /** e.g. `whatsapp-dev`: names the schedule group `{prefix}-{suffix}`. */
  readonly prefix: string;
  /** Keep the group (and its pending schedules) when the stack goes. */
  readonly retain: boolean;
}

/** What tells one capability's schedules from another's. */
export interface OneTimeSchedulesSpec {
  /** The group's name after the prefix, e.g. `deferred-sends`. */
  readonly groupSuffix: string;
  /** The role's description. */
  readonly roleDescription: string;
  /** The environment variables `bindScheduler` sets: `{envPrefix}_GROUP`, `…_ROLE_ARN`, `…_TARGET_ARN`, `…_DLQ_ARN`. */
  readonly envPrefix: string;
  /** Why the schedule-creating function may create any schedule of the group (cdk-nag IAM5). */
  readonly grantReason: string;
}

/**
 * EventBridge Scheduler one-time schedules onto an SQS queue: the schedule
 * group, the role the scheduler assumes (only for schedules of this group of
 * this account) to send to the target queue and to the dead-letter queue,
 * and that DLQ (what the scheduler could not deliver after its retries).
 * Pending schedules are state: the group lives in the stateful stack, kept
 * outside dev. A capability extends this with its own names
 * (`DeferredSends`, `SequenceSchedules`).
 */
export abstract class OneTimeSchedules extends Construct {
  public readonly group: ScheduleGroup;
  public readonly role: Role;
  public readonly dlq: Queue;
  protected readonly groupName: string;
  private readonly spec: OneTimeSchedulesSpec;

  protected constructor(scope: Construct, id: string, props: OneTimeSchedulesProps, spec: OneTimeSchedulesSpec) {
    super(scope, id);
    this.spec = spec;
    this.groupName = `${props.prefix}-${spec.groupSuffix}`;
    this.group = new ScheduleGroup(this, 'Group', {
      scheduleGroupName: this.groupName,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.dlq = new Queue(this, 'Dlq', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue (schedules the scheduler could not deliver).' });
    const account = Stack.of(this).account;
    this.role = new Role(this, 'Role', {
      description: spec.roleDescription,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account }, ArnLike: { 'aws:SourceArn': this.schedulesArn() } },
      }),
    });
    props.targetQueue.grantSendMessages(this.role);
    this.dlq.grantSendMessages(this.role);
  }

  /** The function may create schedules in the group and hand them the role; the settings it reads are set. */
  bindScheduler(fn: AppFunction, targetQueue: IQueue): void {
    const env = this.spec.envPrefix;
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['scheduler:CreateSchedule'], resources: [this.schedulesArn()] }));
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }));
    fn.fn.addEnvironment(`${env}_GROUP`, this.group.scheduleGroupName);
    fn.fn.addEnvironment(`${env}_ROLE_ARN`, this.role.roleArn);
    fn.fn.addEnvironment(`${env}_TARGET_ARN`, targetQueue.queueArn);
    fn.fn.addEnvironment(`${env}_DLQ_ARN`, this.dlq.queueArn);
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/*]`,
      reason: this.spec.grantReason,
    });
  }

  /** Every schedule of the group (names are made at run time). */
  protected schedulesArn(): string {
    const stack = Stack.of(this);
    return stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` });
  }
}
