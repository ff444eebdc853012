import { type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppFunction } from './app-function.js';

export interface LiveUpdatesProps {
  /** The table holding the connections (`LIVE#…` items, kept with a TTL). */
  readonly table: ITableV2;
  /** The issuer the HTTP API's JWT authorizer trusts (`DashboardApi.jwtIssuer`). */
  readonly jwtIssuer: string;
  /** Its audiences (`DashboardApi.jwtAudiences`): the dashboard's ID tokens. */
  readonly jwtAudiences: string[];
  /** @default true (false in dev stages) */
  readonly retainLogs?: boolean;
  /** Connection attempts and client messages per second (API Gateway throttling, burst 2×). @default 100 */
  readonly rateLimit?: number;
}

/**
 * Live updates for the dashboard (README "Live updates (WebSocket)"): an API
 * Gateway WebSocket API whose `$connect` is guarded by a Lambda REQUEST
 * authorizer (`functions/live-authorizer`: the dashboard's JWT from
 * `?token=`, verified against the HTTP API's issuer and audiences), and whose
 * three routes go to `functions/live` (stores and forgets connections, scoped
 * to the account and the agent's numbers). The pushes are posted by the
 * functions that write what changed: `grantPush` gives one the management
 * API of this stage and `LIVE_UPDATES_ENDPOINT`.
 */
export class LiveUpdates extends Construct {
  public readonly api: WebSocketApi;
  public readonly stage: WebSocketStage;
  public readonly routeFunction: AppFunction;
  public readonly authorizerFunction: AppFunction;

  constructor(scope: Construct, id: string, props: LiveUpdatesProps) {
    super(scope, id);
    this.authorizerFunction = new AppFunction(this, 'Authorizer', {
      handlerDir: 'live-authorizer',
      description: "Live updates' $connect authorizer: verifies the dashboard's JWT from ?token=",
      retainLogs: props.retainLogs,
      memorySize: 256,
      timeout: Duration.seconds(5),
      environment: { JWT_ISSUER: props.jwtIssuer, JWT_AUDIENCES: props.jwtAudiences.join(',') },
    });
    this.routeFunction = new AppFunction(this, 'Routes', {
      handlerDir: 'live',
      description: "Live updates' WebSocket routes: $connect stores the connection, $disconnect forgets it, $default answers its scope",
      retainLogs: props.retainLogs,
      memorySize: 256,
      timeout: Duration.seconds(5),
    }).bindTable(props.table);

    const routes = new WebSocketLambdaIntegration('Routes', this.routeFunction.fn);
    this.api = new WebSocketApi(this, 'Api', {
      description: 'WhatsApp multi-number backend: live updates for the dashboard',
      connectRouteOptions: {
        integration: routes,
        authorizer: new WebSocketLambdaAuthorizer('Token', this.authorizerFunction.fn, { identitySource: ['route.request.querystring.token'] }),
      },
      disconnectRouteOptions: { integration: routes },
      defaultRouteOptions: { integration: routes },
    });
    for (const routeKey of ['$disconnect', '$default']) {
      Validations.of(this.api.node.findChild(`${routeKey}-Route`)).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'A WebSocket API authorizes on $connect only: this route runs on a connection the authorizer admitted, with its decision as the context.',
      });
    }

    const rate = props.rateLimit ?? 100;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: (props.retainLogs ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: 'live',
      autoDeploy: true,
      throttle: { rateLimit: rate, burstLimit: rate * 2 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            connectionId: '$context.connectionId',
            status: '$context.status',
            sourceIp: '$context.identity.sourceIp',
            accountId: '$context.authorizer.accountId',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    new CfnOutput(this, 'LiveUpdatesUrl', { value: this.stage.url, description: 'Connect with ?token=<the dashboard ID token>' });
  }

  /**
   * May post to and delete this stage's connections (`execute-api:ManageConnections`)
   * and `LIVE_UPDATES_ENDPOINT` set. The function must read the table (the
   * connections of the number) and write it (a connection answered 410 is deleted).
   */
  grantPush(fn: AppFunction): void {
    // POST (a push) and DELETE (a connection gone) on this stage's connections, nothing else of the API.
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [this.api.arnForExecuteApiV2('*/@connections/*', this.stage.stageName)] }));
    fn.fn.addEnvironment('LIVE_UPDATES_ENDPOINT', this.stage.callbackUrl);
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${this.apiLogicalId()}>/${this.stage.stageName}/*/@connections/*]`,
      reason: 'Connection ids are made by API Gateway at run time: the grant is narrowed to this stage’s @connections.',
    });
  }

  /** The WebSocket API's logical id, as cdk-nag names it in a finding. */
  private apiLogicalId(): string {
    const stack = Stack.of(this);
    return stack.resolve(stack.getLogicalId(this.api.node.defaultChild as CfnElement)) as string;
  }
}
