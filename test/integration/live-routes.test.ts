/**
 * The AWS side of live updates, as API Gateway calls it: the `$connect`
 * authorizer (functions/live-authorizer) verifying RS256 tokens against an
 * issuer's keys (handed to the verifier: aws-jwt-verify fetches a JWKS over
 * HTTPS only, and this machine has no HTTPS issuer), and the routes
 * function (functions/live) storing, describing and forgetting connections
 * on DynamoDB Local with the scope the authorizer decided.
 */
import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DashboardTokenVerifier } from '../../functions/adapters/jwt/jwt-verifier.js';
import { DynamoLiveConnectionStore } from '../../functions/adapters/dynamo/live-connections.js';
import { makeLiveAuthorizerHandler } from '../../functions/live-authorizer/app.js';
import { makeLiveHandler } from '../../functions/live/app.js';
import { createLiveDeps } from '../../functions/live/deps.js';
import { agentSeat } from '../support/access.js';
import { call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender, putNumber } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

const AUDIENCE = 'dashboard-client';
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc123/live/$connect';
const context = { functionName: 'live', awsRequestId: 'req' } as Context;

const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool';
let jwks: Jwks;
let key: CryptoKey;
let otherKey: CryptoKey;
let table: TestTable;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  // Signs with the same kid as the published key: only the signature tells them apart.
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] } as Jwks;
  table = await createTestTable('live-routes');
});

function token(claims: Record<string, unknown>, options: { signWith?: CryptoKey; audience?: string; expiresIn?: string; issuer?: string } = {}) {
  return new SignJWT({ token_use: 'id', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(options.issuer ?? issuer)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(String(claims.sub ?? 'user-sub'))
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(options.signWith ?? key);
}

function authorizer() {
  return makeLiveAuthorizerHandler({ tokens: new DashboardTokenVerifier({ issuer, audiences: [AUDIENCE], jwks }) });
}

function connectEvent(query: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return { type: 'REQUEST', methodArn: METHOD_ARN, queryStringParameters: query, headers: {}, requestContext: { routeKey: '$connect' } } as unknown as APIGatewayRequestAuthorizerEvent;
}

describe('the $connect authorizer', () => {
  // Made per call: the keys exist once beforeAll has run, after this block is collected.
  const authorize = (event: APIGatewayRequestAuthorizerEvent, ctx: Context) => authorizer()(event, ctx);

  it('allows a valid token and passes its account, role and subject on as the connection’s context', async () => {
    const decision = await authorize(connectEvent({ token: await token({ 'custom:role': 'owner', 'custom:accountId': 'acc_owner0001', sub: 'owner-1' }) }), context);
    expect(decision.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: METHOD_ARN });
    expect(decision.principalId).toBe('owner-1');
    expect(decision.context).toEqual({ accountId: 'acc_owner0001', role: 'owner', subject: 'owner-1' });
  });

  it('keeps an owner on their own account, whatever ?accountId= says', async () => {
    const decision = await authorize(connectEvent({ token: await token({ 'custom:role': 'owner', 'custom:accountId': 'acc_owner0001' }), accountId: 'acc_other00001' }), context);
    expect(decision.context?.accountId).toBe('acc_owner0001');
  });

  it('lets support staff name the account, and denies them (403) when they do not', async () => {
    const support = await token({ 'custom:role': 'support' });
    expect((await authorize(connectEvent({ token: support, accountId: 'acc_named00001' }), context)).context).toMatchObject({ accountId: 'acc_named00001', role: 'support' });
    const denied = await authorize(connectEvent({ token: support }), context);
    expect(denied.policyDocument.Statement[0]!.Effect).toBe('Deny');
    expect(denied.context).toBeUndefined();
  });

  it('answers Unauthorized (API Gateway’s 401) without a token, and for a foreign key, another audience or issuer, or an expired token', async () => {
    const claims = { 'custom:role': 'owner', 'custom:accountId': 'acc_owner0001' };
    const bad: Record<string, string>[] = [
      {},
      { token: 'not-a-jwt' },
      { token: await token(claims, { signWith: otherKey }) },
      { token: await token(claims, { audience: 'someone-else' }) },
      { token: await token(claims, { issuer: 'https://evil.example.com' }) },
      { token: await token(claims, { expiresIn: '-1m' }) },
    ];
    for (const query of bad) await expect(authorize(connectEvent(query), context), JSON.stringify(query)).rejects.toThrow(/^Unauthorized$/);
  });

  it('denies a valid token that carries no known role', async () => {
    const decision = await authorize(connectEvent({ token: await token({ 'custom:role': 'root', 'custom:accountId': 'acc_owner0001' }) }), context);
    expect(decision.policyDocument.Statement[0]!.Effect).toBe('Deny');
  });
});

describe('the routes', () => {
  type RouteResult = { statusCode: number; body?: string };
  const routes = () => {
    const handler = makeLiveHandler(createLiveDeps(table.doc, table.tableName));
    return async (event: never, ctx: Context) => (await handler(event, ctx)) as RouteResult;
  };
  const routeEvent = (routeKey: string, connectionId: string, authorizerContext?: Record<string, string>) =>
    ({ requestContext: { routeKey, connectionId, ...(authorizerContext ? { authorizer: authorizerContext } : {}) }, isBase64Encoded: false, body: '{"type":"ping"}' }) as never;

  it('stores a connection on $connect, answers its scope on $default, forgets it on $disconnect', async () => {
    const { accountId } = await newAccount(adaptersFor(table));
    const live = routes();
    const owner = { accountId, role: 'owner', subject: 'owner-1' };
    expect((await live(routeEvent('$connect', 'conn-owner=', owner), context)).statusCode).toBe(200);
    const stored = await new DynamoLiveConnectionStore(table.doc, table.tableName, { now: () => new Date() }).get(accountId, 'conn-owner=');
    expect(stored).toMatchObject({ accountId, role: 'owner', access: { all: true } });
    expect(stored!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 2 * 60 * 60);
    const described = await live(routeEvent('$default', 'conn-owner=', owner), context);
    expect(JSON.parse(described.body!)).toEqual({ type: 'connected', accountId, whatsapp_phnos: 'all' });
    expect((await live(routeEvent('$disconnect', 'conn-owner=', owner), context)).statusCode).toBe(200);
    const after = await live(routeEvent('$default', 'conn-owner=', owner), context);
    expect(after.statusCode).toBe(401);
    expect(JSON.parse(after.body!).error.message).toMatch(/reconnect/);
  });

  it('scopes an agent’s connection to the numbers their teams cover', async () => {
    const { accountId } = await newAccount(adaptersFor(table), { users: 5, teams: 5 });
    await putNumber(table, accountId, NUMBERS.default, true, 'Support');
    await putNumber(table, accountId, NUMBERS.vendas, false, 'Vendas');
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
    const seat = await agentSeat((request) => call(api, request), accountId, [NUMBERS.vendas.whatsapp_phno]);
    const live = routes();
    const agent = { accountId, role: 'agent', subject: 'agent-1', userId: seat.userId };
    expect((await live(routeEvent('$connect', 'conn-agent=', agent), context)).statusCode).toBe(200);
    const described = await live(routeEvent('$default', 'conn-agent=', agent), context);
    expect(JSON.parse(described.body!)).toEqual({ type: 'connected', accountId, whatsapp_phnos: [NUMBERS.vendas.whatsapp_phno] });
  });

  it('refuses every route without the authorizer’s context, and stores nothing', async () => {
    const live = routes();
    expect((await live(routeEvent('$connect', 'conn-none='), context)).statusCode).toBe(401);
    expect((await live(routeEvent('$default', 'conn-none='), context)).statusCode).toBe(401);
    expect((await live(routeEvent('$disconnect', 'conn-none='), context)).statusCode).toBe(200);
  });
});
