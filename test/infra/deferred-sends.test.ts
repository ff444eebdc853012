/**
 * The deferred-sends construct (`lib/deferred-sends.ts`): an EventBridge
 * Scheduler group in the stateful stack (kept outside dev), the role its
 * schedules assume (send to the send queue and the DLQ only), the DLQ; and the
 * sender allowed to create schedules in that group, with the settings it reads.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthApp } from '../support/cdk.js';

describe('deferred sends', () => {
  const { stateful, stateless } = synthApp();
  const template = Template.fromStack(stateful);
  const functions = Template.fromStack(stateless);

  it('has a schedule group named for the stage, and its DLQ', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'whatsapp-dev-deferred-sends' });
    template.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Delete' });
  });

  it('keeps the group (pending schedules) outside dev', () => {
    const prod = Template.fromStack(synthApp({ stage: 'prod' }).stateful);
    prod.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Retain' });
  });

  it('gives the scheduler a role of its own account that may only send to the send queue and the DLQ', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': Match.anyValue() } }) })],
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('DeferredSendsRole'));
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => s.Action));
    expect(new Set(actions)).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
  });

  it('lets the sender create schedules in the group and pass the role, and tells it where', () => {
    functions.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'sender',
          DEFERRED_SENDS_GROUP: 'whatsapp-dev-deferred-sends',
          DEFERRED_SENDS_ROLE_ARN: Match.anyValue(),
          DEFERRED_SENDS_TARGET_ARN: Match.anyValue(),
          DEFERRED_SENDS_DLQ_ARN: Match.anyValue(),
        }),
      },
    });
    functions.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'scheduler:CreateSchedule' }), Match.objectLike({ Action: 'iam:PassRole' })]) },
    });
  });
});
