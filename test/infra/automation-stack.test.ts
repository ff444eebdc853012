/**
 * The automation consumer in the CDK app: its queue (with both DLQs) fed by
 * the `automation` rule's shared pattern, its function behind the queue with
 * partial batch failures, granted the table and the access-token secret (by
 * ARN, never by value), and covered by the alarms.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONSUMERS } from '../../lib/consumers.js';
import { RULES } from '../../schemas/routes.js';
import { synthApp } from '../support/cdk.js';

describe('automation consumer', () => {
  const { stateful, stateless } = synthApp();
  const statefulTemplate = Template.fromStack(stateful);
  const statelessTemplate = Template.fromStack(stateless);
  const statefulResources = statefulTemplate.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

  const automationFunction = () => {
    const fns = Object.values(statelessTemplate.findResources('AWS::Lambda::Function'));
    const fn = fns.find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'automation');
    expect(fn, 'a function for functions/automation').toBeDefined();
    return fn!;
  };

  it('subscribes a queue with a DLQ to the automation rule, its target retried and dead-lettered', () => {
    const rules = Object.values(statefulTemplate.findResources('AWS::Events::Rule'));
    const rule = rules.find((r) => JSON.stringify(r.Properties.EventPattern) === JSON.stringify(RULES.automation));
    expect(rule, 'a rule with the automation pattern of schemas/routes.ts').toBeDefined();
    const target = rule!.Properties.Targets[0];
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    expect(target.DeadLetterConfig.Arn).toBeDefined();

    const queueId = target.Arn['Fn::GetAtt'][0] as string;
    const queue = statefulResources[queueId]!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(queue.Properties.VisibilityTimeout).toBe(CONSUMERS.automation.timeout.toSeconds() * 6);
    const dlq = statefulResources[queue.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]]!;
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('feeds the function from that queue with partial batch failures', () => {
    const fn = automationFunction();
    expect(fn.Properties.Timeout).toBe(CONSUMERS.automation.timeout.toSeconds());
    const [logicalId] = Object.entries(statelessTemplate.findResources('AWS::Lambda::Function')).find(([, f]) => f === fn)!;
    statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId },
      BatchSize: CONSUMERS.automation.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('binds the table, the Graph API version and the access token by ARN', () => {
    const variables = automationFunction().Properties.Environment.Variables;
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['TABLE_NAME', 'GRAPH_API_VERSION', 'WHATSAPP_ACCESS_TOKEN_SECRET_ARN']));
    expect(variables.WHATSAPP_ACCESS_TOKEN).toBeUndefined();
  });

  it('grants the function read-write on the table and reading the access-token secret', () => {
    const fn = automationFunction();
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = Object.values(statelessTemplate.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
  });

  it('alarms on its errors, its throttles and both of its DLQs', () => {
    const alarms = Object.values(statelessTemplate.findResources('AWS::CloudWatch::Alarm'));
    const descriptions = alarms.map((a) => a.Properties.AlarmDescription as string);
    expect(descriptions).toEqual(expect.arrayContaining(['automation: function errors', 'automation: throttled invocations']));
    expect(descriptions.filter((d) => d.startsWith('automation: messages in'))).toHaveLength(2);
    statelessTemplate.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: Match.anyValue() });
  });
});
