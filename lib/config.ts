/**
 * Deployment configuration from CDK context (`-c key=value` or cdk.json),
 * parsed once with zod so a bad value fails synth with its name.
 */
import type { Node } from 'constructs';
import * as z from 'zod';
import { rateCardSchema } from '../schemas/rate-card.js';

const stageConfig = z.object({
  /** `dev` stages may be destroyed with their data; any other stage retains the table and protects it from deletion. */
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/).default('dev'),
  /** Log retention in days for every function. */
  logRetentionDays: z.coerce.number().int().positive().default(30),
  /** Graph API version the sender pins. */
  graphApiVersion: z.string().regex(/^v\d+\.\d+$/).default('v23.0'),
  /** An external OIDC issuer for the dashboard API; when absent the stack creates a Cognito user pool. */
  jwtIssuer: z.url().optional(),
  jwtAudience: z.string().optional(),
  /** Messages per second a number may send (Meta: 80 by default, up to 1,000). Sizes the sender's concurrency. */
  throughputPerSecond: z.coerce.number().int().min(1).max(1000).default(80),
  /** How long the bus archive keeps events for replay. */
  archiveRetentionDays: z.coerce.number().int().min(1).max(3650).default(30),
  /** A balance under this raises the "credit pool near zero" alarm and the `Credits Low` event. */
  creditsLowThresholdMicros: z.coerce.number().int().min(0).default(5_000_000),
  /** The rate card (`schemas/rate-card.ts`) as JSON; the example card when absent. */
  rateCard: z
    .union([z.string().transform((text) => JSON.parse(text) as unknown), z.record(z.string(), z.unknown())])
    .pipe(rateCardSchema)
    .transform((card) => JSON.stringify(card))
    .optional(),
  /** Broadcast recipients per chunk: one credit reservation and one settlement each. */
  broadcastChunkSize: z.coerce.number().int().min(1).max(1000).default(250),
  /** Where alarms are e-mailed (an SNS subscription); alarms go to the SNS topic either way. */
  alarmEmail: z.email().optional(),
  /** The Amazon Bedrock foundation model AI agents answer with (Converse API); the automation function may invoke this one only. */
  aiModelId: z.string().regex(/^[a-z0-9-]+\.[A-Za-z0-9._:-]+$/, 'a Bedrock model id, e.g. amazon.nova-lite-v1:0').default('amazon.nova-lite-v1:0'),
  /** The region Bedrock is called in (where the model is offered); the stack's own when absent. */
  aiRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region, e.g. us-east-1').optional(),
});

export type StageConfig = z.infer<typeof stageConfig>;

export function readStageConfig(node: Node): StageConfig {
  const raw = Object.fromEntries(
    Object.keys(stageConfig.shape).map((key) => [key, node.tryGetContext(key)]).filter(([, v]) => v !== undefined),
  );
  const parsed = stageConfig.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid CDK context: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  if (parsed.data.jwtIssuer && !parsed.data.jwtAudience) throw new Error('Invalid CDK context: jwtAudience is required with jwtIssuer');
  return parsed.data;
}

export const isDevStage = (config: StageConfig) => config.stage === 'dev';
