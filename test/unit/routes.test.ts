/**
 * `schemas/routes.ts`: the EventBridge pattern subset `matches` implements,
 * and where each webhook event goes (inbox, automation, broadcast).
 */
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import { type EventPattern, RULES, matches, rulesMatching } from '../../schemas/routes.js';

const event = (detailType: string, detail: Record<string, unknown>, source: string = SOURCES.webhook) => ({ source, 'detail-type': detailType, detail });

describe('matches', () => {
  it('matches an exact value among alternatives (OR)', () => {
    expect(matches({ source: ['a', 'b'] }, { source: 'b' })).toBe(true);
    expect(matches({ source: ['a', 'b'] }, { source: 'c' })).toBe(false);
  });

  it('requires every field (AND)', () => {
    const pattern: EventPattern = { source: ['a'], 'detail-type': ['x'] };
    expect(matches(pattern, { source: 'a', 'detail-type': 'x' })).toBe(true);
    expect(matches(pattern, { source: 'a', 'detail-type': 'y' })).toBe(false);
  });

  it('matches nested objects', () => {
    const pattern: EventPattern = { detail: { status: { status: ['read'] } } };
    expect(matches(pattern, { detail: { status: { status: 'read' } } })).toBe(true);
    expect(matches(pattern, { detail: { status: { status: 'sent' } } })).toBe(false);
    expect(matches(pattern, { detail: {} })).toBe(false);
  });

  it('matches exists: true only when a leaf value is present', () => {
    const pattern: EventPattern = { detail: { broadcastId: [{ exists: true }] } };
    expect(matches(pattern, { detail: { broadcastId: 'brd_1' } })).toBe(true);
    expect(matches(pattern, { detail: {} })).toBe(false);
  });

  it('does not treat an object as an existing leaf, as EventBridge does not', () => {
    expect(matches({ detail: { context: [{ exists: true }] } }, { detail: { context: { id: 'w' } } })).toBe(false);
  });

  it('matches exists: false when the field is absent', () => {
    const pattern: EventPattern = { detail: { broadcastId: [{ exists: false }] } };
    expect(matches(pattern, { detail: {} })).toBe(true);
    expect(matches(pattern, { detail: { broadcastId: 'brd_1' } })).toBe(false);
  });

  it('matches a prefix on strings only', () => {
    const pattern: EventPattern = { detail: { eventId: [{ prefix: 'tpl:' }] } };
    expect(matches(pattern, { detail: { eventId: 'tpl:1:APPROVED' } })).toBe(true);
    expect(matches(pattern, { detail: { eventId: 'wamid.1' } })).toBe(false);
    expect(matches(pattern, { detail: { eventId: 7 } })).toBe(false);
  });

  it('matches numbers, booleans and null exactly', () => {
    expect(matches({ detail: { n: [1], b: [false], z: [null] } }, { detail: { n: 1, b: false, z: null } })).toBe(true);
    expect(matches({ detail: { n: [1] } }, { detail: { n: '1' } })).toBe(false);
  });

  it('matches when any element of an array value matches', () => {
    expect(matches({ detail: { tags: ['vip'] } }, { detail: { tags: ['new', 'vip'] } })).toBe(true);
    expect(matches({ detail: { items: { sku: ['a'] } } }, { detail: { items: [{ sku: 'b' }, { sku: 'a' }] } })).toBe(true);
  });

  it('matches $or when any alternative does, together with the other fields', () => {
    const pattern: EventPattern = { source: ['s'], $or: [{ detail: { a: ['1'] } }, { detail: { b: ['2'] } }] };
    expect(matches(pattern, { source: 's', detail: { b: '2' } })).toBe(true);
    expect(matches(pattern, { source: 's', detail: { c: '3' } })).toBe(false);
    expect(matches(pattern, { source: 'other', detail: { a: '1' } })).toBe(false);
  });
});

describe('RULES', () => {
  const received = (detail: Record<string, unknown> = {}) => event(DETAIL_TYPES.messageReceived, { eventId: 'wamid.1', message: { id: 'wamid.1', type: 'text' }, ...detail });
  const status = (detail: Record<string, unknown> = {}) => event(DETAIL_TYPES.messageStatusUpdated, { eventId: 'wamid.1:read', ...detail });

  it('sends an inbound message to the inbox, the automations, the integrations and the outgoing webhooks', () => {
    expect(rulesMatching(received())).toEqual(['inbox', 'automation', 'integrations', 'outgoingWebhooks']);
  });

  it('also sends a reply (a message with context) to the broadcasts', () => {
    expect(rulesMatching(received({ message: { id: 'wamid.2', type: 'button', context: { id: 'wamid.OUT' } } }))).toEqual(['inbox', 'automation', 'integrations', 'outgoingWebhooks', 'broadcast']);
  });

  it('sends a status to the inbox and the outgoing webhooks', () => {
    expect(rulesMatching(status())).toEqual(['inbox', 'outgoingWebhooks']);
  });

  it('sends a broadcast status to the inbox and the broadcasts', () => {
    expect(rulesMatching(status({ broadcastId: 'brd_0001' }))).toEqual(['inbox', 'outgoingWebhooks', 'broadcast']);
  });

  it('sends a template status update to the outgoing webhooks and the broadcasts', () => {
    expect(rulesMatching(event(DETAIL_TYPES.templateStatusUpdated, { eventId: 'tpl:1' }))).toEqual(['outgoingWebhooks', 'broadcast']);
  });

  it('sends the API\'s Broadcast Requested command to the broadcasts only', () => {
    expect(rulesMatching(event(DETAIL_TYPES.broadcastRequested, { broadcastId: 'brd_1' }, SOURCES.api))).toEqual(['broadcast']);
  });

  it('ignores a Broadcast Requested that does not come from the API', () => {
    expect(rulesMatching(event(DETAIL_TYPES.broadcastRequested, { broadcastId: 'brd_1' }))).toEqual([]);
  });

  it('sends an echo or history message (Message Recorded) to the inbox only', () => {
    expect(rulesMatching(event(DETAIL_TYPES.messageRecorded, { eventId: 'rec:wamid.1', source: 'business_app', direction: 'out', message: { id: 'wamid.1', type: 'text', context: { id: 'wamid.OUT' } } }))).toEqual(['inbox']);
  });

  it('sends a user preferences update to the broadcasts only', () => {
    expect(rulesMatching(event(DETAIL_TYPES.userPreferencesUpdated, { eventId: 'pref:1', category: 'marketing_messages', value: 'stop' }))).toEqual(['broadcast']);
  });

  it('sends a number update to the outgoing webhooks only', () => {
    expect(rulesMatching(event(DETAIL_TYPES.numberUpdated, { field: 'account_update' }))).toEqual(['outgoingWebhooks']);
  });

  it('ignores the same detail type from another source', () => {
    expect(rulesMatching(event(DETAIL_TYPES.messageReceived, {}, SOURCES.api))).toEqual([]);
  });

  it('are plain JSON, as a CDK rule takes them', () => {
    expect(JSON.parse(JSON.stringify(RULES))).toEqual(RULES);
  });
});
