/**
 * Issue 14 in the CDK app: the automation function may invoke one Bedrock
 * model and no other, may send to its own queue (AI turns' delayed `AI Turn
 * Due`), and is told where; the sequence-steps schedules (`lib/sequence-schedules.ts`):
 * a group in the stateful stack (kept outside dev), the role the scheduler
 * assumes (only for this group's schedules of this account; it may send to
 * the automation queue and the group's DLQ only), the DLQ, alarms on it and
 * on the deferred-sends DLQ; and the API and automation functions allowed
 * to create schedules in that group only and to pass that role only.
 */
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../schemas/routes.js';
import { synthApp } from '../support/cdk.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const SEQUENCE_ENV = ['SEQUENCE_SCHEDULE_GROUP', 'SEQUENCE_SCHEDULE_ROLE_ARN', 'SEQUENCE_SCHEDULE_TARGET_ARN', 'SEQUENCE_SCHEDULE_DLQ_ARN'];

/** Logical id of the resource an `Fn::ImportValue` of the stateful stack's export names (`…ExportsOutput{Ref|FnGetAtt}<id>…`). */
function importedId(value: unknown, statefulIds: string[]): string | undefined {
  const name = (value as { 'Fn::ImportValue'?: string })?.['Fn::ImportValue'];
  if (!name) return undefined;
  return statefulIds.find((id) => name.includes(`ExportsOutputRef${id}`) || name.includes(`ExportsOutputFnGetAtt${id}`));
}

function synth(context: Record<string, unknown> = {}) {
  const { stateful, stateless } = synthApp(context);
  const statefulTemplate = Template.fromStack(stateful);
  const statelessTemplate = Template.fromStack(stateless);
  const statefulResources = statefulTemplate.toJSON().Resources as Record<string, Resource>;
  const statelessResources = statelessTemplate.toJSON().Resources as Record<string, Resource>;
  const statefulIds = Object.keys(statefulResources);
  const fnOf = (service: string) => {
    const entry = Object.entries(statelessResources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
    );
    expect(entry, `a function for functions/${service}`).toBeDefined();
    return { id: entry![0], fn: entry![1] };
  };
  const statementsOf = (service: string): Statement[] => {
    const roleId = fnOf(service).fn.Properties.Role['Fn::GetAtt'][0] as string;
    return Object.values(statelessResources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  };
  const withAction = (statements: Statement[], action: string) => statements.filter((s) => [s.Action].flat().includes(action));
  const idOf = (type: string, prefix: string) => {
    const ids = Object.entries(statefulResources).filter(([id, r]) => r.Type === type && id.startsWith(prefix)).map(([id]) => id);
    expect(ids, `one ${type} under ${prefix}`).toHaveLength(1);
    return ids[0]!;
  };
  // The automation queue: the target of the rule with the automation pattern.
  const automationRule = Object.values(statefulResources).find(
    (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.EventPattern) === JSON.stringify(RULES.automation),
  );
  const automationQueueId = automationRule!.Properties.Targets[0].Arn['Fn::GetAtt'][0] as string;
  expect(statefulResources[automationQueueId]!.Type).toBe('AWS::SQS::Queue');
  return { statefulTemplate, statelessTemplate, statefulResources, statelessResources, statefulIds, fnOf, statementsOf, withAction, idOf, automationQueueId };
}

describe('AI agents: Amazon Bedrock', () => {
  const app = synth();

  it('lets the automation function invoke the configured model only, by its foundation-model ARN', () => {
    const bedrock = app.statementsOf('automation').filter((s) => [s.Action].flat().some((a) => a.startsWith('bedrock:')));
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0]!.Action).toBe('bedrock:InvokeModel');
    expect(bedrock[0]!.Effect).toBe('Allow');
    expect(bedrock[0]!.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/amazon.nova-lite-v1:0']],
    });
    expect(JSON.stringify(bedrock[0]!.Resource)).not.toContain('*');
  });

  it('tells the automation function the model and the region', () => {
    const variables = app.fnOf('automation').fn.Properties.Environment.Variables;
    expect(variables.AI_MODEL_ID).toBe('amazon.nova-lite-v1:0');
    expect(variables.AI_REGION).toEqual({ Ref: 'AWS::Region' });
  });

  it('grants Bedrock to no other function', () => {
    for (const service of ['api', 'webhook', 'inbox', 'broadcast', 'sender']) {
      const actions = app.statementsOf(service).flatMap((s) => [s.Action].flat());
      expect(actions.filter((a) => a.startsWith('bedrock:')), service).toEqual([]);
    }
  });

  it('takes the model and its region from context (aiModelId, aiRegion)', () => {
    const other = synth({ aiModelId: 'anthropic.claude-3-haiku-20240307-v1:0', aiRegion: 'eu-central-1' });
    const [statement] = other.withAction(other.statementsOf('automation'), 'bedrock:InvokeModel');
    expect(statement!.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:eu-central-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0']],
    });
    const variables = other.fnOf('automation').fn.Properties.Environment.Variables;
    expect(variables).toMatchObject({ AI_MODEL_ID: 'anthropic.claude-3-haiku-20240307-v1:0', AI_REGION: 'eu-central-1' });
  });

  it('refuses a model id or region that is not one, naming it', () => {
    expect(() => synthApp({ aiModelId: '*' })).toThrow(/aiModelId/);
    expect(() => synthApp({ aiRegion: 'everywhere' })).toThrow(/aiRegion/);
  });
});

describe('AI turns: the automation function sends to its own queue', () => {
  const app = synth();

  it('may SendMessage to the automation queue, and to no other queue', () => {
    const sends = app.withAction(app.statementsOf('automation'), 'sqs:SendMessage');
    expect(sends).toHaveLength(1);
    expect(importedId(sends[0]!.Resource, app.statefulIds)).toBe(app.automationQueueId);
  });

  it('has the queue URL, the debounce and history left to their defaults', () => {
    const variables = app.fnOf('automation').fn.Properties.Environment.Variables;
    expect(importedId(variables.AUTOMATION_QUEUE_URL, app.statefulIds)).toBe(app.automationQueueId);
    expect(variables.AI_DEBOUNCE_MS).toBeUndefined();
    expect(variables.AI_HISTORY_MESSAGES).toBeUndefined();
  });
});

describe('sequence steps: the schedule group, its role and its DLQ', () => {
  const app = synth();
  const roleId = app.idOf('AWS::IAM::Role', 'SequenceSchedulesRole');
  const dlqId = app.idOf('AWS::SQS::Queue', 'SequenceSchedulesDlq');

  it('has a group named for the stage in the stateful stack, deleted with a dev stack, kept outside dev', () => {
    app.statefulTemplate.hasResource('AWS::Scheduler::ScheduleGroup', { Properties: { Name: 'whatsapp-dev-sequence-steps' }, DeletionPolicy: 'Delete' });
    expect(Object.values(app.statelessResources).filter((r) => r.Type === 'AWS::Scheduler::ScheduleGroup')).toEqual([]);
    const prod = Template.fromStack(synthApp({ stage: 'prod' }).stateful);
    prod.hasResource('AWS::Scheduler::ScheduleGroup', { Properties: { Name: 'whatsapp-prod-sequence-steps' }, DeletionPolicy: 'Retain' });
    prod.hasResource('AWS::Scheduler::ScheduleGroup', { Properties: { Name: 'whatsapp-prod-deferred-sends' }, DeletionPolicy: 'Retain' });
  });

  it('has a DLQ with SQS-managed encryption, TLS only and 14 days of retention', () => {
    const dlq = app.statefulResources[dlqId]!;
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    app.statefulTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('lets only EventBridge Scheduler assume the role, for schedules of this group in this account', () => {
    const trust = app.statefulResources[roleId]!.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/whatsapp-dev-sequence-steps/*'],
              ],
            },
          },
        },
      },
    ]);
  });

  it('lets the role send to the automation queue and the DLQ, nothing else', () => {
    const statements = Object.values(app.statefulResources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const actions = new Set(statements.flatMap((s) => [s.Action].flat()));
    expect(actions).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    const targets = statements.map((s) => (s.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]).sort();
    expect(targets).toEqual([app.automationQueueId, dlqId].sort());
  });
});

describe('sequence steps: who may schedule them', () => {
  const app = synth();
  const roleId = app.idOf('AWS::IAM::Role', 'SequenceSchedulesRole');
  const dlqId = app.idOf('AWS::SQS::Queue', 'SequenceSchedulesDlq');
  const groupSchedules = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/whatsapp-dev-sequence-steps/*']],
  };

  it.each(['api', 'automation'])('lets the %s function create schedules in the sequence-steps group only and pass its role only', (service) => {
    const statements = app.statementsOf(service);
    const create = app.withAction(statements, 'scheduler:CreateSchedule');
    expect(create.map((s) => s.Resource)).toEqual([groupSchedules]);
    const pass = app.withAction(statements, 'iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(importedId(pass[0]!.Resource, app.statefulIds)).toBe(roleId);
    // Nothing else of the scheduler (no update, delete or wildcard).
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('scheduler:'))).toEqual(['scheduler:CreateSchedule']);
  });

  it.each(['api', 'automation'])('tells the %s function the group, the role, the target (the automation queue) and the DLQ', (service) => {
    const variables = app.fnOf(service).fn.Properties.Environment.Variables;
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(SEQUENCE_ENV));
    expect(variables.SEQUENCE_SCHEDULE_GROUP).toBe('whatsapp-dev-sequence-steps');
    expect(importedId(variables.SEQUENCE_SCHEDULE_ROLE_ARN, app.statefulIds)).toBe(roleId);
    expect(importedId(variables.SEQUENCE_SCHEDULE_TARGET_ARN, app.statefulIds)).toBe(app.automationQueueId);
    expect(importedId(variables.SEQUENCE_SCHEDULE_DLQ_ARN, app.statefulIds)).toBe(dlqId);
  });

  it('gives the sequence-steps settings and grants to no other function, and leaves the sender on its own group', () => {
    for (const service of ['webhook', 'inbox', 'broadcast', 'sender']) {
      const variables = app.fnOf(service).fn.Properties.Environment.Variables;
      expect(Object.keys(variables).filter((name) => name.startsWith('SEQUENCE_SCHEDULE_')), service).toEqual([]);
    }
    const senderCreate = app.withAction(app.statementsOf('sender'), 'scheduler:CreateSchedule');
    expect(JSON.stringify(senderCreate.map((s) => s.Resource))).toContain('schedule/whatsapp-dev-deferred-sends/*');
    expect(JSON.stringify(senderCreate.map((s) => s.Resource))).not.toContain('sequence-steps');
  });
});

describe('alarms on the schedulers’ dead-letter queues', () => {
  const app = synth();

  it.each([
    ['sequence steps', 'SequenceSchedulesDlq', 'sequenceSteps: messages in'],
    ['deferred sends', 'DeferredSendsDlq', 'deferredSends: messages in'],
  ])('alarms on messages visible in the %s DLQ, to the alarm topic', (_, prefix, description) => {
    const dlqId = app.idOf('AWS::SQS::Queue', prefix);
    const alarms = Object.values(app.statelessResources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && (r.Properties.AlarmDescription as string).startsWith(description),
    );
    expect(alarms).toHaveLength(1);
    const { Properties: alarm } = alarms[0]!;
    expect(alarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1, Period: 60 });
    expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    expect(alarm.AlarmActions).toHaveLength(1);
    const [dimension] = alarm.Dimensions as { Name: string; Value: unknown }[];
    expect(dimension!.Name).toBe('QueueName');
    expect((dimension!.Value as { 'Fn::ImportValue': string })['Fn::ImportValue']).toContain(dlqId);
  });
});

describe('cdk-nag AwsSolutions with AI agents and sequences', () => {
  it('finds nothing unacknowledged, with the model and its region set by context', () => {
    const { app } = synthApp({ aiModelId: 'anthropic.claude-3-haiku-20240307-v1:0', aiRegion: 'us-west-2', stage: 'prod' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toBe('');
  });
});
