/**
 * Every item type of the one table (docs/data-model.md, "Item catalogue"),
 * as entities: the repositories, the tests and the local runtime build keys
 * and read items through these definitions only.
 */
export { ACCOUNT_PARTITION } from './account-partition.js';
export { account, accountCreation, apiIdempotency, team, teamMember, user, userEmail, userTeam } from './accounts.js';
export { aiAgentConversation } from './ai-agent.js';
export { apiKey, apiKeyCount } from './api-keys.js';
export { automation } from './automations.js';
export { automationClaim, chatbotSession, conversationLock, fallbackMarker, firstMessageMarker, replyBucket, roundRobinCursor } from './automation-state.js';
export { FAILED_PREFIX, broadcast, broadcastChunk, broadcastCounter, broadcastRecipient, broadcastWamid } from './broadcasts.js';
export { type Entity, type KeyParts, defineEntity, word } from './entity.js';
export { BUCKET_NUMBER_PREFIX, NUMBER_USED_PREFIX, limitBucket, portfolioLimit, reachedUser } from './messaging-limit.js';
export { integration } from './integration.js';
export { liveConnection } from './live.js';
export { marketingPreference } from './marketing-preferences.js';
export { consumerDedupe, contact, contactUserId, conversation, conversationNote, lastMessageKey, message, messageAmendment, wamidPointer } from './inbox.js';
export { defaultNumber, mergeProgress, number, numberClaim, phoneNumberIdRoute, sendingSide, wabaRoute } from './numbers.js';
export { creditPool, gaugeQuota, ledgerEntry, numberSpend, periodQuota, reservation } from './quotas.js';
export { activeEnrollment, sequenceEnrollment } from './sequence.js';
export { template } from './templates.js';
export { webhookDelivery, webhookSubscription, webhookSubscriptionCount } from './webhooks.js';
export { upload } from './uploads.js';
