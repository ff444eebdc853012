/**
 * Live updates in the local runtime: `ws://127.0.0.1:PORT/ws?token=JWT` on
 * the runtime's own HTTP server, the same protocol as the WebSocket API in
 * AWS (lib/live-updates.ts). The upgrade is refused with 401 when the token
 * is missing or not valid (`LocalAuth.verify`, as the HTTP API's), with 403
 * when it names no account (support staff add `&accountId=acc_…`) or an
 * agent names no seat; otherwise the socket is scoped to the account and the
 * caller's numbers (`functions/live/app.ts`, `makeLiveSubscribe`), kept in
 * the hub (`functions/adapters/local/live-hub.ts`) until it closes, and sent
 * `{type: "connected", accountId, whatsapp_phnos}` first and in answer to
 * any message the client sends.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { LocalLiveHub } from '../functions/adapters/local/live-hub.js';
import type { makeLiveSubscribe } from '../functions/live/app.js';
import type { LocalAuth } from './auth.js';

export const LIVE_PATH = '/ws';

export interface LiveServerOptions {
  auth: Pick<LocalAuth, 'verify'>;
  hub: LocalLiveHub;
  subscribe: ReturnType<typeof makeLiveSubscribe>;
  log?: (line: string) => void;
}

export interface LiveServer {
  /** Closes every open socket (going away, 1001). */
  close(): void;
}

export function attachLiveServer(server: Server, options: LiveServerOptions): LiveServer {
  const log = options.log ?? (() => undefined);
  const wss = new WebSocketServer({ noServer: true });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((error: unknown) => {
      log(`live upgrade failed: ${(error as Error).stack ?? error}`);
      refuse(socket, 500, 'Internal error.');
    });
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== LIVE_PATH) {
      refuse(socket, 404, `WebSocket connections are served at ${LIVE_PATH}?token=JWT only.`);
      return;
    }
    // Browsers cannot set headers on a WebSocket: the token comes as ?token=, as API Gateway's authorizer reads it.
    const token = url.searchParams.get('token');
    const claims = await options.auth.verify(token ? `Bearer ${token}` : req.headers.authorization);
    if (!claims) {
      refuse(socket, 401, 'A valid token is required: ws://…/ws?token=JWT (mint one with POST /local/token).');
      return;
    }
    let subscribed: Awaited<ReturnType<LiveServerOptions['subscribe']>>;
    try {
      const requestedAccountId = url.searchParams.get('accountId') ?? undefined;
      subscribed = await options.subscribe({ claims, ...(requestedAccountId !== undefined ? { requestedAccountId } : {}) });
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        refuse(socket, status, (error as Error).message);
        return;
      }
      throw error;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remove = options.hub.add(subscribed.subscriber, ws);
      ws.on('close', remove);
      ws.on('error', remove);
      // Any message (e.g. {"type":"ping"}) is answered with the connection's scope, as in AWS.
      ws.on('message', () => ws.send(subscribed.connected));
      ws.send(subscribed.connected);
    });
  }

  return {
    close() {
      for (const client of wss.clients) client.close(1001, 'The runtime is stopping.');
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

function refuse(socket: Duplex, status: number, message: string) {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[status] ?? 'Error';
  const body = JSON.stringify({ error: { code: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : 'INTERNAL', message } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
