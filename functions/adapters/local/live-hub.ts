/**
 * Live updates in the local runtime: the sockets of `ws://…/ws` kept in
 * memory (`local/live-server.ts` adds and removes them), each with the
 * account and numbers it was opened for. An update goes, as JSON, to every
 * open socket of the same account that may see the update's number, at
 * once, in the order published: the same protocol as API Gateway's.
 */
import type { LiveSubscriber } from '../../core/live-connections.js';
import type { LiveUpdate, LiveUpdates } from '../../core/live-updates.js';
import { canSee } from '../../core/number-access.js';

/** What the hub needs of a socket (`ws`'s WebSocket has it). */
export interface LiveSocket {
  send(data: string): void;
}

interface Subscription {
  subscriber: Pick<LiveSubscriber, 'accountId' | 'access'>;
  socket: LiveSocket;
}

export class LocalLiveHub implements LiveUpdates {
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Starts sending the subscriber's updates to the socket; the returned function stops it. */
  add(subscriber: Pick<LiveSubscriber, 'accountId' | 'access'>, socket: LiveSocket): () => void {
    const subscription = { subscriber, socket };
    this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  /** Open sockets (of one account, when given). */
  count(accountId?: string): number {
    return [...this.subscriptions].filter((s) => accountId === undefined || s.subscriber.accountId === accountId).length;
  }

  listens(accountId: string, whatsappPhno: string): Promise<boolean> {
    return Promise.resolve([...this.subscriptions].some((s) => this.wants(s, accountId, whatsappPhno)));
  }

  publish(update: LiveUpdate): Promise<void> {
    const data = JSON.stringify(update);
    for (const subscription of this.subscriptions) {
      if (!this.wants(subscription, update.accountId, update.whatsapp_phno)) continue;
      try {
        subscription.socket.send(data);
      } catch (error) {
        // A socket closing as we send: it is removed by its close event.
        this.log(`live update not sent to a closing socket: ${(error as Error).message}`);
      }
    }
    return Promise.resolve();
  }

  private wants(subscription: Subscription, accountId: string, whatsappPhno: string): boolean {
    return subscription.subscriber.accountId === accountId && canSee(subscription.subscriber.access, whatsappPhno);
  }
}
