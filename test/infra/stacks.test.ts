import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONSUMERS, SENDER, WEBHOOK_DELIVERY } from '../../lib/consumers.js';
import { RULES } from '../../schemas/routes.js';
import { TABLE } from '../../schemas/table.js';
import { synthApp } from '../support/cdk.js';

describe('stateful stack', () => {
  const { stateful } = synthApp();
  const template = Template.fromStack(stateful);

  it('builds the table from the shared definition: keys, GSIs and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE.globalSecondaryIndexes.map((gsi) =>
        Match.objectLike({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('lets a dev stage delete the table with the stack', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });

  it('keeps Meta secrets in Secrets Manager', () => {
    // Meta's three, and the outgoing webhooks' master signing key.
    template.resourceCountIs('AWS::SecretsManager::Secret', 4);
  });
});

describe('a production stage', () => {
  const { stateful } = synthApp({ stage: 'prod' });

  it('retains the table and protects it from deletion', () => {
    const template = Template.fromStack(stateful);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })] }),
    });
  });
});

describe('stateless stack', () => {
  const { stateless } = synthApp();
  const template = Template.fromStack(stateless);

  it('runs every function on Node.js 22 on arm64', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThanOrEqual(2);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('puts the dashboard routes behind a JWT authorizer and leaves the webhook open', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /v1/{proxy+}', AuthorizationType: 'JWT' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhook', AuthorizationType: 'NONE' });
  });

  it('never puts a secret value in a function environment, only its ARN', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const variables = functions.flatMap((fn) => Object.keys(fn.Properties.Environment?.Variables ?? {}));
    expect(variables).toContain('WHATSAPP_APP_SECRET_SECRET_ARN');
    expect(variables.filter((name) => /SECRET$|TOKEN$/.test(name))).toEqual([]);
  });

  it('creates a Cognito user pool with the account and role attributes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([Match.objectLike({ Name: 'accountId' }), Match.objectLike({ Name: 'role' })]),
    });
  });
});

describe('event routing and queues', () => {
  const { stateful, stateless } = synthApp();
  const statefulTemplate = Template.fromStack(stateful);
  const statelessTemplate = Template.fromStack(stateless);

  it('archives every event our sources put on the bus', () => {
    statefulTemplate.resourceCountIs('AWS::Events::EventBus', 1);
    statefulTemplate.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['whatsapp.webhook', 'whatsapp.api'] },
      RetentionDays: 30,
    });
  });

  it('gives every queue a DLQ after 5 receives, encryption, and 14 days of DLQ retention', () => {
    const queues = statefulTemplate.findResources('AWS::SQS::Queue');
    const byId = new Map(Object.entries(queues));
    const working = [...byId.values()].filter((q) => q.Properties.RedrivePolicy);
    // One per bus consumer, the send queue, the webhook delivery queue.
    expect(working).toHaveLength(Object.keys(CONSUMERS).length + 2);
    for (const queue of working) {
      expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      const dlqId = queue.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      expect(byId.get(dlqId)!.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('sets each queue visibility timeout to 6x its consumer timeout', () => {
    const fns = Object.values(statelessTemplate.findResources('AWS::Lambda::Function'));
    const timeoutOf = (dir: string) => fns.find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === dir)!.Properties.Timeout as number;
    const queues = Object.values(statefulTemplate.findResources('AWS::SQS::Queue')).filter((q) => q.Properties.RedrivePolicy);
    const visibilities = queues.map((q) => q.Properties.VisibilityTimeout).sort((a, b) => a - b);
    const dirs = [...Object.values(CONSUMERS).map((c) => c.handlerDir), SENDER.handlerDir, WEBHOOK_DELIVERY.handlerDir];
    expect(visibilities).toEqual(dirs.map((dir) => timeoutOf(dir) * 6).sort((a, b) => a - b));
  });

  it('routes with the shared patterns, each target with its own retry policy and DLQ', () => {
    const rules = Object.values(statefulTemplate.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(Object.keys(CONSUMERS).length);
    const patterns = rules.map((r) => r.Properties.EventPattern);
    expect(patterns).toEqual(expect.arrayContaining(Object.values(CONSUMERS).map((c) => JSON.parse(JSON.stringify(RULES[c.rule])))));
    for (const rule of rules) {
      const target = rule.Properties.Targets[0];
      expect(target.DeadLetterConfig.Arn).toBeDefined();
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    }
  });

  it('reports partial batch failures from every SQS event source', () => {
    const mappings = Object.values(statelessTemplate.findResources('AWS::Lambda::EventSourceMapping'));
    // Each bus consumer, the sender, the webhook delivery function.
    expect(mappings).toHaveLength(Object.keys(CONSUMERS).length + 2);
    for (const mapping of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('sizes the sender concurrency from the throughput', () => {
    const sender = Object.values(statelessTemplate.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'sender')!;
    expect(sender.Properties.ReservedConcurrentExecutions).toBe(2);
    expect(sender.Properties.Environment.Variables.SENDER_THROUGHPUT_PER_SECOND).toBe('40');
    const fast = Template.fromStack(synthApp({ throughputPerSecond: 1000 }).stateless);
    const fastSender = Object.values(fast.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'sender')!;
    expect(fastSender.Properties.ReservedConcurrentExecutions).toBe(25);
  });
});

describe('observability', () => {
  const { stateless } = synthApp({ alarmEmail: 'ops@example.com' });
  const template = Template.fromStack(stateless);

  it('alarms on every DLQ, every function error and throttle, 5xx, unrouted deliveries, PutEvents failures and low credits', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => !id.startsWith('LogRetention') && !id.includes('AwsCustomResource'));
    const names = alarms.map((a) => a.Properties.MetricName).filter(Boolean);
    // Two per queue (its DLQ and its rule target's: bus consumers, send, webhook delivery), one per scheduler DLQ (deferred sends, sequence steps).
    expect(names.filter((n) => n === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2 * (Object.keys(CONSUMERS).length + 2) + 2);
    expect(names.filter((n) => n === 'Errors')).toHaveLength(functions.length);
    expect(names.filter((n) => n === 'Throttles')).toHaveLength(functions.length);
    expect(names).toEqual(expect.arrayContaining(['UnroutedEvents', 'PublishFailures', 'CreditsLow']));
    expect(alarms.some((a) => a.Properties.Metrics?.some((m: { Expression?: string }) => m.Expression?.includes('errors / requests')))).toBe(true);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  it('e-mails alarms when an address is configured', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('draws the flow on a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('least privilege', () => {
  const { stateful, stateless } = synthApp();

  it('grants no wildcard action, and no wildcard resource on data', () => {
    for (const stack of [stateful, stateless]) {
      const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
      for (const policy of policies) {
        for (const statement of policy.Properties.PolicyDocument.Statement) {
          const actions: string[] = [statement.Action].flat();
          const resources: unknown[] = [statement.Resource].flat();
          expect(actions.some((a) => a === '*' || a.endsWith(':*')), JSON.stringify(actions)).toBe(false);
          const touchesData = actions.some((a) => /^(dynamodb|sqs|secretsmanager|events|kms):/.test(a));
          if (touchesData) expect(resources, JSON.stringify(statement)).not.toContain('*');
        }
      }
    }
  });
});

describe('configuration from context', () => {
  it('passes a rate card given in context to the functions that price messages', () => {
    const card = { default: { MARKETING: 50_000, UTILITY: 10_000, AUTHENTICATION: 8_000 }, byCallingCode: {} };
    const { stateless } = synthApp({ rateCard: JSON.stringify(card) });
    const fns = Object.values(Template.fromStack(stateless).findResources('AWS::Lambda::Function'));
    const sender = fns.find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'sender')!;
    expect(JSON.parse(sender.Properties.Environment.Variables.PRICING_RATE_CARD)).toEqual(card);
  });

  it('refuses a rate card that is not one, naming it', () => {
    expect(() => synthApp({ rateCard: '{"default": {"MARKETING": 1.5}}' })).toThrow(/rateCard/);
  });
});
