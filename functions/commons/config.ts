/**
 * Environment configuration, parsed once per container with zod. A missing or
 * malformed variable fails at cold start with its name in the message.
 */
import * as z from 'zod';

const dynamoSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** Set only locally and in tests (DynamoDB Local); in AWS the SDK's default endpoint is used. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
});

export type DynamoConfig = z.infer<typeof dynamoSchema>;

export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${names}`);
  }
  return result.data;
}

export function dynamoConfig(env: NodeJS.ProcessEnv = process.env): DynamoConfig {
  return parseConfig(dynamoSchema, env);
}
