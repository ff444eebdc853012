/**
 * Secrets: in AWS a function gets `<NAME>_SECRET_ARN` and reads the value from
 * Secrets Manager once per container (cached); locally and in tests it gets
 * `<NAME>` itself, with the documented local defaults. No secret value is ever
 * put in a Lambda environment variable.
 *
 * Hand-written rather than Powertools Parameters: `getSecret` added ~5 KB to
 * each bundle that reads a secret (webhook, api, sender) for a cache this
 * small (docs/architecture.md, "Composition").
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidConfiguration } from '../core/backend-failures.js';

/** Reads one secret; the value is fetched on first use and kept. */
export type SecretReader = () => Promise<string>;

/**
 * The secrets of one container, from its environment. Each `secret(name)` is
 * checked when it is made (cold start) and fails naming the variable when
 * neither `<NAME>_SECRET_ARN` nor `<NAME>` is set. One Secrets Manager client
 * serves every secret, created with the first that lives there.
 */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): (name: string) => SecretReader {
  let client: SecretsManagerClient | undefined;
  return (name) => {
    const arn = env[`${name}_SECRET_ARN`];
    if (!arn) {
      const value = env[name];
      if (!value) throw new InvalidConfiguration(`Invalid configuration: ${name} (or ${name}_SECRET_ARN) is not set`);
      return () => Promise.resolve(value);
    }
    const secrets = (client ??= new SecretsManagerClient({}));
    let pending: Promise<string> | undefined;
    return () => {
      if (!pending) {
        pending = secrets.send(new GetSecretValueCommand({ SecretId: arn })).then(({ SecretString }) => {
          if (!SecretString) throw new InvalidConfiguration(`Secret ${arn} has no string value`);
          return SecretString;
        });
        // A failed read is retried on the next invocation rather than cached.
        pending.catch(() => (pending = undefined));
      }
      return pending;
    };
  };
}
