/**
 * The AWS push of live updates (functions/adapters/apigw/live-updates.ts):
 * API Gateway's management API mocked (aws-sdk-client-mock) to answer each
 * connection as a real stage would, the connection store in memory.
 */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiGatewayLiveUpdates, apiGatewayLiveUpdates } from '../../functions/adapters/apigw/live-updates.js';
import type { LiveConnection } from '../../functions/core/live-connections.js';
import { type LiveUpdate, noLiveUpdates } from '../../functions/core/live-updates.js';
import { memoryConnectionStore as memoryStore } from '../support/live-connections.js';

const api = mockClient(ApiGatewayManagementApiClient);
afterEach(() => api.reset());

function connection(connectionId: string, access: LiveConnection['access'], accountId = 'acc_a'): LiveConnection {
  return { accountId, connectionId, role: access.all ? 'owner' : 'agent', subject: `sub-${connectionId}`, access, connectedAt: '2026-12-02T10:00:00.000Z', expiresAt: 1_900_000_000 };
}

const UPDATE: LiveUpdate = {
  type: 'conversation.updated',
  accountId: 'acc_a',
  whatsapp_phno: '15550001001',
  conversationId: '15550001001_5511987650001',
  conversation: { conversationId: '15550001001_5511987650001', unreadCount: 0 } as never,
};

/** Which connections a post was made to, with what. */
function posts(): { connectionId: string; body: unknown }[] {
  return api.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId!,
    body: JSON.parse(new TextDecoder().decode(call.args[0].input.Data as Uint8Array)),
  }));
}

const gone = () => new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } });

describe('ApiGatewayLiveUpdates', () => {
  const client = () => new ApiGatewayManagementApiClient({ endpoint: 'https://abc.execute-api.us-east-1.amazonaws.com/live', region: 'us-east-1' });

  it('posts the update as JSON to every connection of the account that may see the number, and to no other', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const store = memoryStore([
      connection('owner-1', { all: true }),
      connection('agent-main', { all: false, numbers: ['15550001001'] }),
      connection('agent-vendas', { all: false, numbers: ['15550001002'] }),
      connection('agent-none', { all: false, numbers: [] }),
      connection('other-account', { all: true }, 'acc_b'),
    ]);
    await new ApiGatewayLiveUpdates(client(), store).publish(UPDATE);
    const sent = posts();
    expect(sent.map((post) => post.connectionId).sort()).toEqual(['agent-main', 'owner-1']);
    for (const post of sent) expect(post.body).toEqual(UPDATE);
  });

  it('listens: true only when a connection of the account covers the number', async () => {
    const store = memoryStore([connection('agent-vendas', { all: false, numbers: ['15550001002'] }), connection('other', { all: true }, 'acc_b')]);
    const live = new ApiGatewayLiveUpdates(client(), store);
    expect(await live.listens('acc_a', '15550001002')).toBe(true);
    expect(await live.listens('acc_a', '15550001001')).toBe(false);
    expect(await live.listens('acc_c', '15550001001')).toBe(false);
  });

  it('a connection answered 410 Gone is deleted, and the others still receive the update', async () => {
    api.on(PostToConnectionCommand).resolves({});
    api.on(PostToConnectionCommand, { ConnectionId: 'closed' }).rejects(gone());
    api.on(PostToConnectionCommand, { ConnectionId: 'closed-plain-410' }).rejects(Object.assign(new Error('gone'), { name: 'Http410', $metadata: { httpStatusCode: 410 } }));
    const store = memoryStore([connection('closed', { all: true }), connection('open', { all: true }), connection('closed-plain-410', { all: true })]);
    await new ApiGatewayLiveUpdates(client(), store).publish(UPDATE);
    expect(store.removed.sort()).toEqual(['closed', 'closed-plain-410']);
    expect((await store.listByAccount('acc_a')).map((item) => item.connectionId)).toEqual(['open']);
    expect(posts().map((post) => post.connectionId).sort()).toEqual(['closed', 'closed-plain-410', 'open']);
  });

  it('a throttled connection does not stop the others; the failure is thrown after every post was tried, and the connection is kept', async () => {
    api.on(PostToConnectionCommand).resolves({});
    api.on(PostToConnectionCommand, { ConnectionId: 'throttled' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 429 } }));
    const store = memoryStore([connection('throttled', { all: true }), connection('a', { all: true }), connection('b', { all: true })]);
    const failure = await new ApiGatewayLiveUpdates(client(), store).publish(UPDATE).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).message).toBe('1 of 3 live update pushes failed');
    expect(((failure as AggregateError).errors[0] as Error).name).toBe('LimitExceededException');
    expect(posts().map((post) => post.connectionId).sort()).toEqual(['a', 'b', 'throttled']);
    expect(store.removed).toEqual([]);
  });

  it('an account with no connection: no post at all', async () => {
    await new ApiGatewayLiveUpdates(client(), memoryStore([connection('x', { all: true }, 'acc_b')])).publish(UPDATE);
    expect(api.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('without LIVE_UPDATES_ENDPOINT the function pushes nowhere (and says nobody listens)', async () => {
    expect(apiGatewayLiveUpdates(undefined, 'us-east-1', memoryStore([]))).toBe(noLiveUpdates);
    expect(apiGatewayLiveUpdates('https://abc.execute-api.us-east-1.amazonaws.com/live', 'us-east-1', memoryStore([]))).toBeInstanceOf(ApiGatewayLiveUpdates);
  });
});
