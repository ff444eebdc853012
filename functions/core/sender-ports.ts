/**
 * What the broadcast sender (`sender.ts`) needs: the credit pool, the
 * portfolio's messaging limit and the scheduler of deferred rounds, its
 * settings, and the context one chunk round's steps share.
 */
import type { BroadcastRecord, BroadcastRepository } from './broadcast-ports.js';
import type { MarketingPreferenceStore } from './marketing-preferences.js';
import type { MessageSender } from './messaging.js';
import type { DeferredSendScheduler, MessagingLimitStore, RoundPlan } from './messaging-limit.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository, Clock, CreditReservation, EventPublisher, QuotaOutcome, ReserveCredits, SettleReservation } from './ports.js';
import type { RateCard } from '../../schemas/rate-card.js';

/** The credit pool as the sender uses it (`DynamoQuotaStore`). */
export interface CreditPool {
  balance(accountId: string): Promise<number>;
  numberSpend(accountId: string, period: string, whatsappPhno: string): Promise<number>;
  reservation(accountId: string, reservationId: string): Promise<CreditReservation | undefined>;
  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome>;
  settleReservation(change: SettleReservation): Promise<QuotaOutcome>;
  markCreditsLow(accountId: string, thresholdMicros: number, at: string): Promise<{ flagged: boolean; balanceMicros?: number }>;
  unmarkCreditsLow(accountId: string, at: string): Promise<void>;
}

export interface SenderSettings {
  /** Messages per second at most (the number's throughput share of this invocation). */
  throughputPerSecond: number;
  /** Sends in flight at once; by default enough to reach the rate at ~200 ms per Graph call. */
  concurrency?: number;
  maxThrottleRetries: number;
  /** First wait after a throttle; doubles per retry, capped at 30 s. */
  throttleBackoffMs?: number;
  staleSendingSeconds: number;
  creditsLowThresholdMicros: number;
}

export interface SenderDeps {
  accounts: Pick<AccountRepository, 'get'>;
  numbers: Pick<NumberRepository, 'get'>;
  broadcasts: BroadcastRepository;
  credits: CreditPool;
  messagingLimits: MessagingLimitStore;
  /** Who opted out of marketing messages: read once per round, for a MARKETING template only. */
  marketingPreferences: Pick<MarketingPreferenceStore, 'forContacts'>;
  /** Puts a chunk's next round on the send queue when deferred recipients can go. */
  scheduler: DeferredSendScheduler;
  messaging: Pick<MessageSender, 'sendTemplate'>;
  events: EventPublisher;
  clock: Clock;
  rateCard: RateCard;
  settings: SenderSettings;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ChunkOutcome {
  outcome: 'processed' | 'already-settled' | 'unknown-broadcast';
  sent: number;
  failed: number;
  /** Recipients this run skipped because they opted out of marketing messages. */
  skippedOptOut?: number;
  reservedMicros: number;
  usedMicros: number;
  /** Recipients left for a later round: deferred by the messaging limit, or not claimed before the round's `sendBy`. */
  deferred?: number;
  creditsLow?: 'published' | 'publish-failed';
}

/** What the steps of one chunk round share. */
export interface ChunkContext {
  deps: SenderDeps;
  broadcast: BroadcastRecord;
  chunk: number;
  /** 0, then one more per deferral. */
  round: number;
  reservationId: string;
  /** The round's plan, once committed. */
  plan?: RoundPlan;
  period: string;
  price: (waId: string) => number;
  result: ChunkOutcome;
}
