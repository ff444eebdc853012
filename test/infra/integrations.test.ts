/**
 * Integrations in the CDK app: the `integrations` bus rule with the shared
 * pattern onto its own queue (DLQ after 5 receives, the target's own DLQ),
 * the integration function consuming it with partial batch failures and a
 * visibility timeout six times its timeout, allowed to READ the table only
 * and the webhooks' signing key (by ARN, never the value), and alarms on both
 * of its dead-letter queues and on its errors.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../schemas/routes.js';
import { synthApp } from '../support/cdk.js';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const { stateful, stateless } = synthApp();
const statefulResources = Template.fromStack(stateful).toJSON().Resources as Record<string, Resource>;
const statelessResources = Template.fromStack(stateless).toJSON().Resources as Record<string, Resource>;

const of = (resources: Record<string, Resource>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const integrationFn = of(statelessResources, 'AWS::Lambda::Function').find(([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'integration');
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('integrations in the CDK app', () => {
  it('routes received messages to the integration queue with the shared pattern', () => {
    const rule = of(statefulResources, 'AWS::Events::Rule').find(([id]) => id.startsWith('IntegrationQueueRule'));
    expect(rule, 'the integration queue rule').toBeDefined();
    expect(rule![1].Properties.EventPattern).toEqual(plain(RULES.integrations));
    const target = rule![1].Properties.Targets[0];
    expect(target.DeadLetterConfig.Arn).toBeDefined();
    const queueId = target.Arn['Fn::GetAtt'][0] as string;
    expect(queueId).toMatch(/^IntegrationQueue/);
    const queue = statefulResources[queueId]!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(queue.Properties.VisibilityTimeout).toBe(integrationFn![1].Properties.Timeout * 6);
  });

  it('runs the integration function on that queue, reporting partial batch failures', () => {
    expect(integrationFn, 'a function for functions/integration').toBeDefined();
    const [id, fn] = integrationFn!;
    expect(fn.Properties.Handler).toBeDefined();
    const mappings = of(statelessResources, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === id);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(JSON.stringify(mappings[0]![1].Properties.EventSourceArn)).toContain('Integration');
  });

  it('may read the table and the signing key, and write nothing to the table; the key is passed by ARN only', () => {
    const [, fn] = integrationFn!;
    const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables.TABLE_NAME).toBeDefined();
    expect(variables.WEBHOOK_SIGNING_KEY_SECRET_ARN).toBeDefined();
    expect(variables.WEBHOOK_SIGNING_KEY).toBeUndefined();
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const actions = of(statelessResources, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
      .flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a) => /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(a))).toEqual([]);
  });

  it('alarms on both dead-letter queues of the integration queue and on the function errors', () => {
    const alarms = of(statelessResources, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(alarms.filter((id) => /^ObservabilityintegrationDlqNotEmpty/.test(id))).toHaveLength(1);
    expect(alarms.filter((id) => /^ObservabilityintegrationTargetDlqNotEmpty/.test(id))).toHaveLength(1);
    expect(alarms.filter((id) => /^ObservabilityintegrationErrors/.test(id))).toHaveLength(1);
  });
});
