/**
 * API keys in the HTTP API (`lib/api-keys.ts`, `lib/dashboard-api.ts`): the
 * authorizer function, the Lambda REQUEST authorizer (simple responses,
 * `x-api-key`, no result cache), the `/api/v1/{proxy+}` route behind it
 * (the JWT route unchanged), `x-api-key` allowed by CORS, and the
 * function's narrow table access.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthApp } from '../support/cdk.js';

describe('API-key authorizer', () => {
  const { stateless } = synthApp();
  const template = Template.fromStack(stateless);
  const routes = template.findResources('AWS::ApiGatewayV2::Route');
  const routeOf = (key: string) => Object.values(routes).find((r) => r.Properties.RouteKey === key);
  const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer');
  const authorizerId = (route: Record<string, any> | undefined): string | undefined => route?.Properties?.AuthorizerId?.Ref;

  it('has a function for functions/authorizer on the table (read)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'authorizer', TABLE_NAME: Match.anyValue() }) },
    });
  });

  it('is a REQUEST authorizer with simple responses, the key in x-api-key, and no result cache (a deleted key stops at once)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      Name: 'api-key',
      IdentitySource: ['$request.header.x-api-key'],
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it('guards ANY /api/v1/{proxy+} with it, and keeps ANY /v1/{proxy+} on the JWT authorizer', () => {
    const keyRoute = routeOf('ANY /api/v1/{proxy+}');
    const jwtRoute = routeOf('ANY /v1/{proxy+}');
    expect(keyRoute?.Properties.AuthorizationType).toBe('CUSTOM');
    expect(jwtRoute?.Properties.AuthorizationType).toBe('JWT');
    expect(authorizers[authorizerId(keyRoute)!]?.Properties.AuthorizerType).toBe('REQUEST');
    expect(authorizers[authorizerId(jwtRoute)!]?.Properties.AuthorizerType).toBe('JWT');
    // Both reach the one API function.
    expect(keyRoute?.Properties.Target).toEqual(jwtRoute?.Properties.Target);
  });

  it('lets browsers send x-api-key', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['x-api-key']) }),
    });
  });

  it('may write only lastUsedAt, only on APIKEY# items', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('ApiKeys'));
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[]);
    const writes = statements.filter((s) => [s.Action].flat().some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'lastUsedAt'] },
      },
    });
  });
});
