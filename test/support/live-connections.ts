/** An in-memory `LiveConnectionStore` for unit tests of the live functions and the AWS push; it records removals. */
import type { LiveConnection, LiveConnectionStore } from '../../functions/core/live-connections.js';

export function memoryConnectionStore(connections: LiveConnection[] = []): LiveConnectionStore & { removed: string[] } {
  const items = new Map(connections.map((item) => [`${item.accountId}/${item.connectionId}`, item]));
  const removed: string[] = [];
  return {
    removed,
    put: async (item) => void items.set(`${item.accountId}/${item.connectionId}`, item),
    get: async (accountId, connectionId) => items.get(`${accountId}/${connectionId}`),
    listByAccount: async (accountId) => [...items.values()].filter((item) => item.accountId === accountId),
    remove: async (accountId, connectionId) => {
      removed.push(connectionId);
      items.delete(`${accountId}/${connectionId}`);
    },
  };
}
