import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type CfnStage, CorsHttpMethod, HttpApi, HttpMethod, HttpStage, type IHttpRouteAuthorizer, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccountRecovery, Mfa, StringAttribute, UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { API_KEY_HEADER, API_KEY_PATH_PREFIX } from '../schemas/api-keys.js';
import type { AppFunction } from './app-function.js';

export interface DashboardApiProps {
  /** The dashboard API function (`functions/api`). */
  readonly apiFunction: AppFunction;
  /** Meta's webhook function (`functions/webhook`). */
  readonly webhookFunction: AppFunction;
  /**
   * The API-key authorizer (`ApiKeyAuthorizer`, lib/api-keys.ts): when given,
   * `/api/v1/{proxy+}` serves the same API function behind it.
   */
  readonly apiKeyAuthorizer?: IHttpRouteAuthorizer;
  /** An external OIDC issuer; when absent a Cognito user pool is created. */
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  /** @default true */
  readonly retainUserPool?: boolean;
  /**
   * Requests per second the webhook route accepts (API Gateway throttling, burst 2×).
   * Meta batches deliveries, so a few hundred per second is generous. @default 200
   */
  readonly webhookRateLimit?: number;
}

/**
 * The HTTP API: `/webhook` (no authorizer: Meta signs its deliveries, the
 * handler verifies), `/v1/*` behind a JWT authorizer whose claims
 * `custom:accountId` and `custom:role` scope every request, and `/api/v1/*`,
 * the same API for API keys, behind the API-key Lambda authorizer (a route
 * takes one authorizer only, hence the second prefix).
 */
export class DashboardApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly userPool?: UserPool;
  public readonly userPoolClient?: UserPoolClient;
  /** The issuer whose tokens `/v1/*` accepts (the user pool's, or `jwtIssuer`): live updates verify the same. */
  public readonly jwtIssuer: string;
  /** The audiences those tokens must name. */
  public readonly jwtAudiences: string[];

  constructor(scope: Construct, id: string, props: DashboardApiProps) {
    super(scope, id);
    let issuer = props.jwtIssuer;
    let audience = props.jwtAudience ? [props.jwtAudience] : [];
    if (!issuer) {
      this.userPool = new UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        customAttributes: {
          accountId: new StringAttribute({ mutable: true }),
          role: new StringAttribute({ mutable: true }),
        },
        passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        mfa: Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        removalPolicy: (props.retainUserPool ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      this.userPoolClient = this.userPool.addClient('Dashboard', {
        authFlows: { userSrp: true },
        idTokenValidity: Duration.hours(1),
        // The role and account claims are admin-set only: the dashboard may read but never write them.
        readAttributes: undefined,
        writeAttributes: undefined,
      });
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason: 'Users are created by operators only (no self sign-up) and MFA is required; the Plus tier’s threat protection adds cost without a threat it answers here.',
      });
      issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
      audience = [this.userPoolClient.userPoolClientId];
    }
    this.jwtIssuer = issuer;
    this.jwtAudiences = audience;
    const authorizer = new HttpJwtAuthorizer('DashboardJwt', issuer, { jwtAudience: audience });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'WhatsApp multi-number backend: Meta webhook and dashboard API',
      createDefaultStage: false,
      corsPreflight: {
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-account-id', API_KEY_HEADER],
        allowMethods: [CorsHttpMethod.ANY],
        allowOrigins: ['*'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });
    // The webhook is unauthenticated (Meta signs, the handler verifies): throttle it apart from the dashboard.
    const webhookRate = props.webhookRateLimit ?? 200;
    (stage.node.defaultChild as CfnStage).routeSettings = {
      'POST /webhook': { throttlingRateLimit: webhookRate, throttlingBurstLimit: webhookRate * 2 },
      'GET /webhook': { throttlingRateLimit: 10, throttlingBurstLimit: 20 },
    };

    const webhook = new HttpLambdaIntegration('Webhook', props.webhookFunction.fn);
    for (const route of this.httpApi.addRoutes({ path: '/webhook', methods: [HttpMethod.GET, HttpMethod.POST], integration: webhook })) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: "Meta cannot present a JWT: the handler verifies X-Hub-Signature-256 (HMAC of the raw body with the app secret) and the verify token.",
      });
    }
    const api = new HttpLambdaIntegration('Api', props.apiFunction.fn);
    this.httpApi.addRoutes({ path: '/v1/{proxy+}', methods: [HttpMethod.ANY], integration: api, authorizer });
    if (props.apiKeyAuthorizer) {
      this.httpApi.addRoutes({ path: `${API_KEY_PATH_PREFIX}/v1/{proxy+}`, methods: [HttpMethod.ANY], integration: api, authorizer: props.apiKeyAuthorizer });
    }

    new CfnOutput(this, 'WebhookUrl', { value: `${this.httpApi.apiEndpoint}/webhook` });
    new CfnOutput(this, 'ApiUrl', { value: `${this.httpApi.apiEndpoint}/v1` });
    if (this.userPool && this.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    }
  }
}
