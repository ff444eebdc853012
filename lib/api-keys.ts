import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { API_KEY_HEADER } from '../schemas/api-keys.js';
import { TABLE } from '../schemas/table.js';
import { AppFunction } from './app-function.js';

export interface ApiKeyAuthorizerProps {
  /** The table holding the keys (`APIKEY#{keyId}` items). */
  readonly table: ITableV2;
  /** @default true (false in dev stages) */
  readonly retainLogs?: boolean;
  /**
   * How long API Gateway may reuse a decision for the same key. A deleted key
   * keeps working for up to this long, so the default verifies every request.
   * @default Duration.seconds(0)
   */
  readonly resultsCacheTtl?: Duration;
}

/**
 * API keys for the HTTP API (docs/architecture.md, "Auth model"): the
 * authorizer function (`functions/authorizer`) and the Lambda REQUEST
 * authorizer over it, with simple responses and the key in `x-api-key`.
 * `DashboardApi` puts it on `/api/v1/{proxy+}`, beside the JWT-authorized `/v1/{proxy+}`.
 *
 * The function reads the table and may write one thing: `lastUsedAt` on a
 * key's own item (leading key `APIKEY#…`, that attribute only).
 */
export class ApiKeyAuthorizer extends Construct {
  public readonly authorizerFunction: AppFunction;
  public readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: ApiKeyAuthorizerProps) {
    super(scope, id);
    this.authorizerFunction = new AppFunction(this, 'Function', {
      handlerDir: 'authorizer',
      description: 'API-key authorizer of the HTTP API (/api/v1/*): verifies x-api-key',
      retainLogs: props.retainLogs,
      memorySize: 256,
      timeout: Duration.seconds(5),
    }).bindTable(props.table, 'read');
    this.authorizerFunction.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [TABLE.partitionKey, TABLE.sortKey, 'lastUsedAt'] },
        },
      }),
    );
    this.authorizer = new HttpLambdaAuthorizer('ApiKey', this.authorizerFunction.fn, {
      authorizerName: 'api-key',
      identitySource: [`$request.header.${API_KEY_HEADER}`],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: props.resultsCacheTtl ?? Duration.seconds(0),
    });
  }
}
