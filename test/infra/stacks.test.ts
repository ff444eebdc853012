import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
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
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
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
