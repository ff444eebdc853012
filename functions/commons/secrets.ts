/**
 * Secrets: in AWS a function gets `<NAME>_SECRET_ARN` and reads the value from
 * Secrets Manager once per container (cached); locally and in tests it gets
 * `<NAME>` itself, with the documented local defaults. No secret value is ever
 * put in a Lambda environment variable.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;
const cache = new Map<string, Promise<string>>();

export function resolveSecret(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const arn = env[`${name}_SECRET_ARN`];
  if (!arn) {
    const value = env[name];
    if (!value) return Promise.reject(new Error(`Invalid configuration: ${name} (or ${name}_SECRET_ARN) is not set`));
    return Promise.resolve(value);
  }
  let pending = cache.get(arn);
  if (!pending) {
    client ??= new SecretsManagerClient({});
    pending = client.send(new GetSecretValueCommand({ SecretId: arn })).then(({ SecretString }) => {
      if (!SecretString) throw new Error(`Secret ${arn} has no string value`);
      return SecretString;
    });
    // A failed read is retried on the next invocation rather than cached.
    pending.catch(() => cache.delete(arn));
    cache.set(arn, pending);
  }
  return pending;
}
