/**
 * The live authorizer's adapters: the JWT verifier of the HTTP API's issuer
 * and audiences (`JWT_ISSUER`, `JWT_AUDIENCES`, set by lib/live-updates.ts
 * from the same values as the HTTP API's JWT authorizer). No table.
 */
import { DashboardTokenVerifier } from '../adapters/jwt/jwt-verifier.js';
import { liveAuthorizerConfig } from '../commons/config.js';
import type { LiveAuthorizerDeps } from './app.js';

export function awsDeps(env: NodeJS.ProcessEnv = process.env): LiveAuthorizerDeps {
  const config = liveAuthorizerConfig(env);
  return { tokens: new DashboardTokenVerifier({ issuer: config.JWT_ISSUER, audiences: config.JWT_AUDIENCES }) };
}
