import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AppFunction } from './app-function.js';
import { type StageConfig, isDevStage } from './config.js';
import { DashboardApi } from './dashboard-api.js';
import type { StatefulStack } from './stateful-stack.js';

export interface StatelessStackProps extends StackProps {
  readonly config: StageConfig;
  readonly stateful: StatefulStack;
}

/** Functions and the HTTP API: no data lives here, so it can be replaced at will. */
export class StatelessStack extends Stack {
  public readonly api: DashboardApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const retainLogs = !isDevStage(config);
    const table = stateful.data.table;

    const apiFunction = new AppFunction(this, 'ApiFunction', {
      handlerDir: 'api',
      description: 'Dashboard API (HTTP API, JWT-authorized)',
      retainLogs,
    }).bindTable(table);

    const webhookFunction = new AppFunction(this, 'WebhookFunction', {
      handlerDir: 'webhook',
      description: "Meta's WhatsApp webhook: verifies, splits, tags and publishes deliveries",
      retainLogs,
    })
      .bindTable(table, 'read')
      .bindSecret('WHATSAPP_APP_SECRET', stateful.secrets.appSecret)
      .bindSecret('WHATSAPP_VERIFY_TOKEN', stateful.secrets.verifyToken);

    this.api = new DashboardApi(this, 'Api', {
      apiFunction,
      webhookFunction,
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      retainUserPool: !isDevStage(config),
    });
  }
}
