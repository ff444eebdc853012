/**
 * The SDK's credential chain as a Lambda bundle needs it: only the
 * environment. Lambda hands every execution environment its role's
 * credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
 * `AWS_SESSION_TOKEN`, which is the first link of
 * `@aws-sdk/credential-provider-node`'s default chain and the one it always
 * takes there. The other links (SSO, ini files, `credential_process`, web
 * identity, the container and instance metadata endpoints) and the STS, SSO
 * and sign-in clients they carry are about 130 kB of every bundle that a
 * Lambda never runs.
 *
 * `lib/bundling.ts` aliases `@aws-sdk/credential-provider-node` to this file
 * in the function bundles only; the local runtime, the tests and the CDK app
 * import the SDK as it is and keep the whole chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type Init = Parameters<typeof fromEnv>[0];
type Credentials = { expiration?: Date };

/** What the SDK clients' runtime config calls as `credentialDefaultProvider`. */
export const defaultProvider = (init: Init = {}) => fromEnv(init);

/** The same answers as the chain's own: credentials with an expiry are refreshed 5 minutes before it. */
export const credentialsWillNeedRefresh = (credentials?: Credentials): boolean => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials?: Credentials): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
