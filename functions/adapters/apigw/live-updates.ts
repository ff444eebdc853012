/**
 * Live updates in AWS: every connection of the account (the table's
 * `LIVE#{accountId}` partition, written by the `live` function on
 * `$connect`) that may see the update's number gets it through API Gateway's
 * management API (`PostToConnection`, needs `execute-api:ManageConnections`).
 * A connection API Gateway answers 410 Gone for (closed without a
 * `$disconnect` we saw) is deleted. Posts go out in parallel; any other
 * failure is thrown after every post was tried, for the caller to log
 * (`withLiveUpdates` swallows it: a push never fails a write).
 */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { LiveConnectionStore } from '../../core/live-connections.js';
import { type LiveUpdate, type LiveUpdates, noLiveUpdates } from '../../core/live-updates.js';
import { canSee } from '../../core/number-access.js';

/** The management API of a WebSocket stage: `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
export function createManagementClient(endpoint: string, region?: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint, ...(region ? { region } : {}) });
}

export class ApiGatewayLiveUpdates implements LiveUpdates {
  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly connections: LiveConnectionStore,
  ) {}

  async listens(accountId: string, whatsappPhno: string): Promise<boolean> {
    const connections = await this.connections.listByAccount(accountId);
    return connections.some((connection) => canSee(connection.access, whatsappPhno));
  }

  async publish(update: LiveUpdate): Promise<void> {
    const connections = (await this.connections.listByAccount(update.accountId)).filter((connection) => canSee(connection.access, update.whatsapp_phno));
    if (connections.length === 0) return;
    const data = new TextEncoder().encode(JSON.stringify(update));
    const outcomes = await Promise.allSettled(
      connections.map(async ({ accountId, connectionId }) => {
        try {
          await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        } catch (error) {
          if (isGone(error)) {
            await this.connections.remove(accountId, connectionId);
            return;
          }
          throw error;
        }
      }),
    );
    const failures = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${connections.length} live update pushes failed`);
  }
}

function isGone(error: unknown): boolean {
  if (error instanceof GoneException) return true;
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return candidate?.name === 'GoneException' || candidate?.$metadata?.httpStatusCode === 410;
}

/**
 * The live updates a function pushes in AWS: to the WebSocket stage at
 * `endpoint` (`LIVE_UPDATES_ENDPOINT`), or nowhere when the stack has none.
 */
export function apiGatewayLiveUpdates(endpoint: string | undefined, region: string | undefined, connections: LiveConnectionStore): LiveUpdates {
  return endpoint ? new ApiGatewayLiveUpdates(createManagementClient(endpoint, region), connections) : noLiveUpdates;
}
