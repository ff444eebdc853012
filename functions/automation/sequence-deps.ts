/**
 * The sequence side of the automation consumer (docs/automations.md,
 * "Sequences"): `createSequenceDeps` binds the step runner and the
 * enrolments (`sequenceEnrolments(deps)`, what a keyword's
 * `subscribeSequence` and a reply or `stop` use) to a table, a Graph API
 * client and a `StepScheduler` (EventBridge Scheduler in AWS,
 * `adapters/local/step-timers.ts` locally, a recording one in tests). The
 * consumer's composition root (`deps.ts`) calls it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateCard } from '../../schemas/rate-card.js';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { DynamoAutomationRepository } from '../adapters/dynamo/automation-repository.js';
import { liveInboxRepository } from '../adapters/dynamo/live-inbox-repository.js';
import { DynamoMarketingPreferenceStore } from '../adapters/dynamo/marketing-preferences.js';
import { DynamoMessagingLimitStore } from '../adapters/dynamo/messaging-limit-store.js';
import { DynamoNumberRepository } from '../adapters/dynamo/number-repository.js';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.js';
import { DynamoSequenceStore } from '../adapters/dynamo/sequence-store.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { reportLiveUpdateFailure } from '../commons/observability.js';
import { type LiveUpdates, noLiveUpdates } from '../core/live-updates.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock } from '../core/ports.js';
import { EXAMPLE_RATE_CARD } from '../core/pricing.js';
import { DEFAULT_SEQUENCE_RUNNER_SETTINGS, type SequenceRunnerDeps, type SequenceRunnerSettings } from '../core/sequence-runner.js';
import type { StepScheduler } from '../core/sequence-ports.js';

export type { SequenceRunnerDeps } from '../core/sequence-runner.js';

export interface SequenceWiring {
  messaging: MessageSender;
  scheduler: StepScheduler;
  clock?: Clock;
  /** What a template step costs (`PRICING_RATE_CARD`, as the broadcast sender's). @default EXAMPLE_RATE_CARD */
  rateCard?: RateCard;
  settings?: Partial<SequenceRunnerSettings>;
  /** Where a step's sends are pushed as live updates. @default nowhere */
  live?: LiveUpdates;
}

export function createSequenceDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: SequenceWiring): SequenceRunnerDeps {
  const clock = wiring.clock ?? systemClock;
  return {
    sequences: new DynamoSequenceStore(doc, tableName),
    automations: new DynamoAutomationRepository(doc, tableName),
    stepScheduler: wiring.scheduler,
    inbox: liveInboxRepository(doc, tableName, clock, wiring.live ?? noLiveUpdates, reportLiveUpdateFailure),
    messaging: wiring.messaging,
    accounts: new DynamoAccountRepository(doc, tableName, clock),
    numbers: new DynamoNumberRepository(doc, tableName, clock),
    templates: new DynamoTemplateRepository(doc, tableName),
    credits: new DynamoQuotaStore(doc, tableName, clock),
    messagingLimits: new DynamoMessagingLimitStore(doc, tableName, clock),
    marketingPreferences: new DynamoMarketingPreferenceStore(doc, tableName),
    rateCard: wiring.rateCard ?? EXAMPLE_RATE_CARD,
    clock,
    ids: timeOrderedIds,
    settings: { ...DEFAULT_SEQUENCE_RUNNER_SETTINGS, ...wiring.settings },
  };
}
