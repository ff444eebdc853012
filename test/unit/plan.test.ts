import { describe, expect, it } from 'vitest';
import { billingPeriod, effectiveLimit, emptyAddons, limitsOf } from '../../functions/core/plan.js';

describe('billingPeriod', () => {
  it('starts each period on the anchor day', () => {
    expect(billingPeriod('2026-01-15T10:00:00Z', new Date('2026-11-27T00:00:00Z'))).toEqual({
      key: '2026-11-15',
      start: '2026-11-15T00:00:00.000Z',
      end: '2026-12-15T00:00:00.000Z',
    });
  });

  it('belongs to the previous period before the anchor day', () => {
    expect(billingPeriod('2026-01-15T10:00:00Z', new Date('2026-11-14T23:59:59Z')).key).toBe('2026-10-15');
  });

  it('clamps an anchor on the 31st to the last day of shorter months', () => {
    expect(billingPeriod('2026-01-31T00:00:00Z', new Date('2026-03-05T00:00:00Z'))).toMatchObject({
      key: '2026-02-28',
      end: '2026-03-31T00:00:00.000Z',
    });
  });
});

describe('limits', () => {
  const plan = { users: 5, teams: 2, chatbotSessions: 100, aiResponses: 50 };

  it('adds add-ons to the plan', () => {
    expect(limitsOf({ plan, addons: { ...emptyAddons(), users: 3, number: 2 } })).toEqual({
      users: 8,
      teams: 2,
      chatbotSessions: 100,
      aiResponses: 50,
      additionalNumbers: 2,
    });
  });

  it('never shows more than 15 additional numbers', () => {
    expect(effectiveLimit({ plan, addons: { ...emptyAddons(), number: 40 } }, 'additionalNumbers')).toBe(15);
  });
});
