import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type StageConfig, isDevStage } from './config.js';
import { DataTable } from './data-table.js';
import { WhatsAppSecrets } from './secrets.js';

/** What holds state: the table and the secrets. Deployed apart so the stateless stack can be replaced freely. */
export class StatefulStack extends Stack {
  public readonly data: DataTable;
  public readonly secrets: WhatsAppSecrets;

  constructor(scope: Construct, id: string, props: StackProps & { readonly config: StageConfig }) {
    super(scope, id, props);
    this.data = new DataTable(this, 'Data', { retain: !isDevStage(props.config) });
    this.secrets = new WhatsAppSecrets(this, 'Secrets', { prefix: `whatsapp-${props.config.stage}` });
  }
}
