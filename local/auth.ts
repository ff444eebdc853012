/**
 * Local tokens: the runtime holds an RS256 key, mints tokens at
 * `POST /local/token`, and verifies them with aws-jwt-verify (the same
 * verifier family as Cognito's) from a cached JWKS, no network. The verified
 * claims reach the handler exactly where the AWS JWT authorizer puts them.
 *
 * With `--persist DIR` the key is kept in `DIR/local-signing-key.json`, so a
 * token minted before a restart stays valid after it; in memory the key is
 * made per run and every restart needs new tokens. The issuer names no port,
 * so the key and verifier exist before the server listens.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import * as z from 'zod';
import { entityId, role } from '../schemas/common.js';

/** `POST /local/token`: `userId` (a seat, `usr_…`) becomes the `custom:userId` claim an agent needs to see conversations. */
export const tokenRequest = z.strictObject({ role, accountId: entityId.optional(), sub: z.string().min(1).max(200).optional(), userId: entityId.optional() });

export const LOCAL_ISSUER = 'urn:whatsapp-multi-number:local';
const AUDIENCE = 'local-dashboard';
const KEY_FILE = 'local-signing-key.json';

export interface LocalAuth {
  jwks: Jwks;
  /** True when the key survives a restart (kept in the persist folder). */
  persistent: boolean;
  mint(request: z.infer<typeof tokenRequest>): Promise<string>;
  /** The claims of a valid token; undefined when missing, malformed, expired or not ours. */
  verify(authorization: string | undefined): Promise<Record<string, string> | undefined>;
}

export interface LocalAuthOptions {
  /** Where the JWKS is served (only named in the verifier's configuration: the keys are cached). */
  jwksUri: string;
  /** Keep the signing key in this folder; a fresh key per run when absent. */
  persistDir?: string;
}

export async function createLocalAuth(options: LocalAuthOptions): Promise<LocalAuth> {
  const { privateKey, publicJwk } = await signingKey(options.persistDir);
  const jwk = { ...publicJwk, kid: 'local-1', alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] } as unknown as Jwks;
  const verifier = JwtVerifier.create({ issuer: LOCAL_ISSUER, audience: AUDIENCE, jwksUri: options.jwksUri });
  verifier.cacheJwks(jwks);
  return {
    jwks,
    persistent: options.persistDir !== undefined,
    async mint({ role: tokenRole, accountId, sub, userId }) {
      return new SignJWT({ 'custom:role': tokenRole, ...(accountId ? { 'custom:accountId': accountId } : {}), ...(userId ? { 'custom:userId': userId } : {}) })
        .setProtectedHeader({ alg: 'RS256', kid: 'local-1' })
        .setIssuer(LOCAL_ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(sub ?? userId ?? `local-${tokenRole}`)
        .setIssuedAt()
        .setExpirationTime('12h')
        .sign(privateKey);
    },
    async verify(authorization) {
      const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
      if (!token) return undefined;
      try {
        const payload = await verifier.verify(token);
        return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)]));
      } catch {
        return undefined;
      }
    },
  };
}

/** The persisted key when there is one, else a new key (written to the folder when persisting). */
async function signingKey(persistDir: string | undefined): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const file = persistDir ? join(persistDir, KEY_FILE) : undefined;
  if (file && existsSync(file)) {
    const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
    return { privateKey: (await importJWK(privateJwk, 'RS256')) as CryptoKey, publicJwk };
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: Boolean(file) });
  if (file) mkdirSync(persistDir!, { recursive: true });
  if (file) writeFileSync(file, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}
