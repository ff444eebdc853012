import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLE } from '../schemas/table.js';
import { FUNCTION_BUNDLING } from './bundling.js';

/** What the functions do to the table; transactions need the per-item actions, nothing else is granted. */
const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DescribeTable',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
} as const;

export interface AppFunctionProps {
  /** Folder under `functions/` holding `handler.ts`, e.g. `api`. */
  readonly handlerDir: string;
  readonly description: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default true (false in dev stages) */
  readonly retainLogs?: boolean;
  readonly environment?: Record<string, string>;
  /** Caps concurrent executions (e.g. the sender, sized from throughput). @default unreserved */
  readonly reservedConcurrentExecutions?: number;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Every Lambda of the backend, with the defaults fixed in one place:
 * Node.js 22 on arm64, ESM bundled by the local esbuild (AWS SDK bundled too,
 * minified, with source maps), JSON logs in a log group with retention,
 * Powertools settings, X-Ray tracing. `bindTable`/`bindSecret` grant access
 * and set the matching environment variable in one call.
 */
export class AppFunction extends Construct {
  public readonly fn: NodejsFunction;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: (props.retainLogs ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: `${repoRoot}functions/${props.handlerDir}/handler.ts`,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: repoRoot,
      depsLockFilePath: `${repoRoot}package-lock.json`,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.handlerDir,
        POWERTOOLS_METRICS_NAMESPACE: 'WhatsAppMultiNumber',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: FUNCTION_BUNDLING,
    });
    const validations = Validations.of(this);
    validations.acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the runtime the code, its dependencies and CI are tested on.',
    });
    validations.acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.',
    });
    validations.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource narrower than *.',
    });
  }

  /**
   * Access to the table and its indexes (named one by one from the shared
   * definition, no `index/*`), and `TABLE_NAME` set, together.
   */
  bindTable(table: ITableV2, access: 'read' | 'readWrite' = 'readWrite'): this {
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...TABLE_ACTIONS[access]],
        resources: [table.tableArn, ...TABLE.globalSecondaryIndexes.map((gsi) => `${table.tableArn}/index/${gsi.indexName}`)],
      }),
    );
    this.fn.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }

  /** May put events on the bus; `EVENT_BUS_NAME` set. */
  bindBus(bus: IEventBus): this {
    bus.grantPutEventsTo(this.fn);
    this.fn.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    return this;
  }

  /** May send to the queue; its URL in `envName`. */
  bindQueue(queue: IQueue, envName: string): this {
    queue.grantSendMessages(this.fn);
    this.fn.addEnvironment(envName, queue.queueUrl);
    return this;
  }

  /** Read access to a secret and `<NAME>_SECRET_ARN` set: the value itself never sits in the environment. */
  bindSecret(name: string, secret: ISecret): this {
    secret.grantRead(this.fn);
    this.fn.addEnvironment(`${name}_SECRET_ARN`, secret.secretArn);
    return this;
  }
}
