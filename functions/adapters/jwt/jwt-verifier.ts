/**
 * Dashboard JWTs verified as the HTTP API's JWT authorizer verifies them
 * (lib/dashboard-api.ts): RS256 signature against the issuer's JWKS
 * (`{issuer}/.well-known/jwks.json`, fetched once and cached per container by
 * aws-jwt-verify), `iss`, `exp`/`nbf`, and the audience as API Gateway reads
 * it: `aud` (an ID token's) or `client_id` (an access token's) among the
 * configured audiences, when any are configured.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { LiveClaims, TokenVerifier } from '../../core/live-connections.js';

export interface JwtVerifierOptions {
  issuer: string;
  /** Accepted audiences (client ids); empty: any. */
  audiences: readonly string[];
  /** @default `{issuer}/.well-known/jwks.json` (fetched over HTTPS only) */
  jwksUri?: string;
  /** The issuer's keys, when they are known already: no fetch until a token names another `kid`. */
  jwks?: Jwks;
}

export class DashboardTokenVerifier implements TokenVerifier {
  private readonly verifier;

  constructor(private readonly options: JwtVerifierOptions) {
    this.verifier = JwtVerifier.create({ issuer: options.issuer, audience: null, ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}) });
    if (options.jwks) this.verifier.cacheJwks(options.jwks);
  }

  async verify(token: string): Promise<LiveClaims | undefined> {
    let payload: Record<string, unknown>;
    try {
      payload = (await this.verifier.verify(token)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (this.options.audiences.length === 0) return payload;
    const named = [payload.aud, payload.client_id].flat().filter((value): value is string => typeof value === 'string');
    return named.some((audience) => this.options.audiences.includes(audience)) ? payload : undefined;
  }
}
