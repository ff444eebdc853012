/**
 * Outgoing webhooks' infrastructure (`lib/outgoing-webhooks.ts`): the
 * delivery queue and its DLQ in the stateful stack, the signing-key secret,
 * the dispatcher fed by the `outgoingWebhooks` rule, the delivery function
 * (outside any VPC) on the delivery queue with its table, secret and queue
 * bindings, and an alarm on the delivery DLQ.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthApp } from '../support/cdk.js';

describe('outgoing webhooks', () => {
  const { stateful, stateless } = synthApp();
  const state = Template.fromStack(stateful);
  const functions = Template.fromStack(stateless);
  const lambdas = functions.findResources('AWS::Lambda::Function');
  const byService = (service: string) => Object.values(lambdas).find((fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service);

  it('keeps the master signing key in Secrets Manager', () => {
    state.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'whatsapp-dev/webhook-signing-key' });
  });

  it('routes every public detail type to the dispatcher queue', () => {
    state.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['whatsapp.webhook'],
        'detail-type': ['WhatsApp Message Received', 'WhatsApp Message Status Updated', 'WhatsApp Template Status Updated', 'WhatsApp Number Updated'],
      },
    });
  });

  it('gives the dispatcher the table and the delivery queue, and no secret', () => {
    const dispatcher = byService('webhook-dispatch');
    expect(dispatcher?.Properties.Environment.Variables).toMatchObject({ TABLE_NAME: expect.anything(), WEBHOOK_DELIVERY_QUEUE_URL: expect.anything() });
    expect(dispatcher?.Properties.Environment.Variables.WEBHOOK_SIGNING_KEY_SECRET_ARN).toBeUndefined();
  });

  it('runs the delivery function outside any VPC, on the delivery queue, with its queue, DLQ and secret', () => {
    const delivery = byService('webhook-delivery');
    expect(delivery).toBeDefined();
    expect(delivery!.Properties.VpcConfig).toBeUndefined();
    expect(delivery!.Properties.Environment.Variables).toMatchObject({
      WEBHOOK_DELIVERY_QUEUE_URL: expect.anything(),
      WEBHOOK_DELIVERY_DLQ_URL: expect.anything(),
      WEBHOOK_SIGNING_KEY_SECRET_ARN: expect.anything(),
      WEBHOOK_MAX_ATTEMPTS: '8',
      TABLE_NAME: expect.anything(),
    });
    functions.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
  });

  it('lets the API show secrets and queue redeliveries', () => {
    expect(byService('api')?.Properties.Environment.Variables).toMatchObject({ WEBHOOK_SIGNING_KEY_SECRET_ARN: expect.anything(), WEBHOOK_DELIVERY_QUEUE_URL: expect.anything() });
  });

  it('alarms when the delivery DLQ holds anything', () => {
    functions.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('^webhookDelivery: messages in the consumer dead-letter queue') });
  });
});
