/**
 * Live updates in the CDK app: a WebSocket API whose `$connect` is guarded by
 * a Lambda REQUEST authorizer reading `?token=` and verifying the HTTP API's
 * own issuer and audiences, its three routes on the live function (which owns
 * the connection items), a stage deployed automatically with throttling and
 * JSON access logs, and the push (`execute-api:ManageConnections` on this
 * stage only, `LIVE_UPDATES_ENDPOINT`) given to exactly the functions that
 * write messages and conversations.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthApp } from '../support/cdk.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const of = (resources: Record<string, Resource>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function stackOf(context: Record<string, unknown> = {}) {
  const { stateless } = synthApp(context);
  const template = Template.fromStack(stateless).toJSON();
  return { resources: template.Resources as Record<string, Resource>, outputs: template.Outputs as Record<string, { Value: unknown }> };
}

const dev = stackOf();
const functions = of(dev.resources, 'AWS::Lambda::Function');
const fnOf = (resources: Record<string, Resource>, service: string) =>
  of(resources, 'AWS::Lambda::Function').find(([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service)!;

function statementsOf(resources: Record<string, Resource>, fnEntry: [string, Resource]) {
  const roleId = fnEntry[1].Properties.Role['Fn::GetAtt'][0] as string;
  return of(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (fnEntry: [string, Resource]) => statementsOf(dev.resources, fnEntry).flatMap((s) => [s.Action].flat());

const [wsApiId, wsApi] = of(dev.resources, 'AWS::ApiGatewayV2::Api').find(([, r]) => r.Properties.ProtocolType === 'WEBSOCKET')!;
const routes = Object.fromEntries(
  of(dev.resources, 'AWS::ApiGatewayV2::Route')
    .filter(([, r]) => r.Properties.ApiId.Ref === wsApiId)
    .map(([, r]) => [r.Properties.RouteKey as string, r.Properties]),
);

describe('the WebSocket API', () => {
  it('has $connect behind the token authorizer and $disconnect and $default on the admitted connection', () => {
    expect(wsApi.Properties.Name).toBeDefined();
    expect(Object.keys(routes).sort()).toEqual(['$connect', '$default', '$disconnect']);
    expect(routes.$connect.AuthorizationType).toBe('CUSTOM');
    expect(routes.$connect.AuthorizerId).toBeDefined();
    expect(routes.$disconnect.AuthorizationType).toBe('NONE');
    expect(routes.$default.AuthorizationType).toBe('NONE');
  });

  it('reads the token from the query string, as browsers can send it, with a REQUEST authorizer on the live-authorizer function', () => {
    const [, authorizer] = of(dev.resources, 'AWS::ApiGatewayV2::Authorizer').find(([, r]) => r.Properties.ApiId.Ref === wsApiId)!;
    expect(authorizer.Properties.AuthorizerType).toBe('REQUEST');
    expect(authorizer.Properties.IdentitySource).toEqual(['route.request.querystring.token']);
    const authorizerFn = fnOf(dev.resources, 'live-authorizer');
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(authorizerFn[0]);
  });

  it('routes every route to the live function, which owns the connection items', () => {
    const liveFn = fnOf(dev.resources, 'live');
    const integrations = of(dev.resources, 'AWS::ApiGatewayV2::Integration').filter(([, r]) => r.Properties.ApiId.Ref === wsApiId);
    expect(integrations).toHaveLength(1);
    expect(JSON.stringify(integrations[0]![1].Properties.IntegrationUri)).toContain(liveFn[0]);
    for (const route of Object.values(routes)) expect(route.Target['Fn::Join'][1]).toContainEqual({ Ref: integrations[0]![0] });
    expect(actionsOf(liveFn)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
    expect(liveFn[1].Properties.Environment.Variables.TABLE_NAME).toBeDefined();
  });

  it('deploys one stage automatically, throttled, with JSON access logs naming the request, route and connection', () => {
    const stages = of(dev.resources, 'AWS::ApiGatewayV2::Stage').filter(([, r]) => r.Properties.ApiId.Ref === wsApiId);
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1].Properties;
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    const format = JSON.parse(stage.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', connectionId: '$context.connectionId', status: '$context.status' });
    expect(stage.AccessLogSettings.DestinationArn).toBeDefined();
  });

  it('outputs the wss:// URL of the stage', () => {
    const [, output] = Object.entries(dev.outputs).find(([id]) => id.startsWith('LiveUpdatesLiveUpdatesUrl'))!;
    expect(JSON.stringify(output.Value)).toMatch(/wss:\/\/.*execute-api.*\/live/);
  });
});

describe('the live authorizer', () => {
  const authorizerFn = fnOf(dev.resources, 'live-authorizer');

  it('verifies the issuer and audience of the HTTP API’s JWT authorizer (the Cognito pool and client when none is configured)', () => {
    const [, jwt] = of(dev.resources, 'AWS::ApiGatewayV2::Authorizer').find(([, r]) => r.Properties.AuthorizerType === 'JWT')!;
    const variables = authorizerFn[1].Properties.Environment.Variables;
    expect(variables.JWT_ISSUER).toEqual(jwt.Properties.JwtConfiguration.Issuer);
    expect(JSON.stringify(variables.JWT_AUDIENCES)).toContain(JSON.stringify(jwt.Properties.JwtConfiguration.Audience[0]));
  });

  it('verifies an external issuer’s tokens when the stack is configured with one', () => {
    const external = stackOf({ jwtIssuer: 'https://login.example.com/', jwtAudience: 'dashboard-client' });
    const variables = fnOf(external.resources, 'live-authorizer')[1].Properties.Environment.Variables;
    expect(variables).toMatchObject({ JWT_ISSUER: 'https://login.example.com/', JWT_AUDIENCES: 'dashboard-client' });
  });

  it('reads nothing of the table', () => {
    expect(actionsOf(authorizerFn).filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
    expect(authorizerFn[1].Properties.Environment.Variables.TABLE_NAME).toBeUndefined();
  });
});

describe('the pushes', () => {
  const writers = ['api', 'inbox', 'automation', 'media'];

  it('are allowed to the functions that write messages and conversations, on this stage’s connections only', () => {
    for (const service of writers) {
      const fn = fnOf(dev.resources, service);
      const manage = statementsOf(dev.resources, fn).filter((s) => [s.Action].flat().includes('execute-api:ManageConnections'));
      expect(manage, service).toHaveLength(1);
      const resource = JSON.stringify(manage[0]!.Resource);
      expect(resource, service).toContain(wsApiId);
      expect(resource, service).toContain('/live/*/@connections/*');
      expect(JSON.stringify(fn[1].Properties.Environment.Variables.LIVE_UPDATES_ENDPOINT), service).toMatch(/https:\/\/.*execute-api.*\/live/);
    }
  });

  it('are allowed to no other function', () => {
    for (const [, fn] of functions) {
      const service = fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME as string | undefined;
      if (service && writers.includes(service)) continue;
      expect(fn.Properties.Environment?.Variables?.LIVE_UPDATES_ENDPOINT, service).toBeUndefined();
    }
    const manageHolders = of(dev.resources, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('execute-api:ManageConnections'));
    expect(manageHolders).toHaveLength(writers.length);
  });
});
