/**
 * Local tokens: the runtime generates an RS256 key at start, mints tokens at
 * `POST /local/token`, and verifies them with aws-jwt-verify (the same
 * verifier family as Cognito's) from a cached JWKS, no network. The verified
 * claims reach the handler exactly where the AWS JWT authorizer puts them.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import * as z from 'zod';
import { entityId, role } from '../schemas/common.js';

export const tokenRequest = z.strictObject({ role, accountId: entityId.optional(), sub: z.string().min(1).max(200).optional() });

export interface LocalAuth {
  jwks: Jwks;
  mint(request: z.infer<typeof tokenRequest>): Promise<string>;
  /** The claims of a valid token; undefined when missing, malformed, expired or not ours. */
  verify(authorization: string | undefined): Promise<Record<string, string> | undefined>;
}

export async function createLocalAuth(issuer: string): Promise<LocalAuth> {
  const audience = 'local-dashboard';
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'local-1', alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] } as unknown as Jwks;
  const verifier = JwtVerifier.create({ issuer, audience, jwksUri: `${issuer}/.well-known/jwks.json` });
  verifier.cacheJwks(jwks);
  return {
    jwks,
    async mint({ role: tokenRole, accountId, sub }) {
      return new SignJWT({ 'custom:role': tokenRole, ...(accountId ? { 'custom:accountId': accountId } : {}) })
        .setProtectedHeader({ alg: 'RS256', kid: 'local-1' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub ?? `local-${tokenRole}`)
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
