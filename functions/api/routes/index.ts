import type { AccountDeps } from '../../core/accounts.js';
import type { Route, RouterDeps } from '../router.js';
import type { MergeDeps } from '../../core/merge.js';
import type { InboxDeps } from '../../core/inbox-ports.js';
import type { TemplateDeps } from '../../core/template-ports.js';
import type { BroadcastApiDeps } from '../../core/broadcast-ports.js';
import type { AutomationApiDeps } from '../../core/automations.js';
import type { MarketingPreferenceDeps } from '../../core/marketing-preferences.js';
import type { AgentTemplateDeps } from '../../core/template-sends.js';
import type { TeamDeps } from '../../core/teams.js';
import type { AgentMediaDeps, UploadDeps } from '../../core/agent-media.js';
import { accountRoutes } from './accounts.js';
import { adminNumberRoutes } from './admin-numbers.js';
import { type ApiKeyDeps, apiKeyRoutes } from './api-keys.js';
import { automationRoutes } from './automations.js';
import { broadcastRoutes } from './broadcasts.js';
import { inboxRoutes } from './inbox.js';
import { inboxWorkRoutes } from './inbox-work.js';
import { type IntegrationApiDeps, integrationRoutes } from './integrations.js';
import { numberRoutes } from './numbers.js';
import { type SequenceApiDeps, sequenceRoutes } from './sequences.js';
import { templateRoutes } from './templates.js';
import { uploadRoutes } from './uploads.js';
import { userAndTeamRoutes } from './users-teams.js';
import { type WebhookSubscriptionDeps, webhookSubscriptionRoutes } from './webhook-subscriptions.js';

/** What the API's routes need, together. Each capability adds its deps and its route module here. */
export type ApiDeps = AccountDeps & RouterDeps & MergeDeps & InboxDeps & TemplateDeps & BroadcastApiDeps & AutomationApiDeps & SequenceApiDeps & IntegrationApiDeps & ApiKeyDeps & WebhookSubscriptionDeps & AgentTemplateDeps & MarketingPreferenceDeps & UploadDeps & AgentMediaDeps & TeamDeps;

export const apiRoutes: Route<ApiDeps>[] = [...accountRoutes, ...userAndTeamRoutes, ...numberRoutes, ...adminNumberRoutes, ...inboxRoutes, ...inboxWorkRoutes, ...uploadRoutes, ...templateRoutes, ...broadcastRoutes, ...automationRoutes, ...sequenceRoutes, ...integrationRoutes, ...apiKeyRoutes, ...webhookSubscriptionRoutes];
