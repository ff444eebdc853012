import { App, type AppProps, Tags } from 'aws-cdk-lib';
import { readStageConfig } from './config.js';
import { StatefulStack } from './stateful-stack.js';
import { StatelessStack } from './stateless-stack.js';

/** Builds the app: the stateful stack (table, secrets) and the stateless one (functions, API). */
export function buildApp(props: AppProps = {}) {
  const app = new App(props);
  // Cross-stack references stay "strong": CloudFormation refuses to delete an export the stateless stack still uses.
  if (app.node.tryGetContext('@aws-cdk/core:defaultCrossStackReferences') === undefined) {
    app.node.setContext('@aws-cdk/core:defaultCrossStackReferences', 'strong');
  }
  const config = readStageConfig(app.node);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stateful = new StatefulStack(app, `WhatsApp-${config.stage}-Stateful`, { env, config });
  const stateless = new StatelessStack(app, `WhatsApp-${config.stage}-Stateless`, { env, config, stateful });
  Tags.of(app).add('project', 'whatsapp-multi-number');
  Tags.of(app).add('stage', config.stage);
  return { app, config, stateful, stateless };
}
