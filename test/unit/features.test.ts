/**
 * The feature policy (docs/architecture.md): one module decides from a number's role.
 */
import { describe, expect, it } from 'vitest';
import { FeatureUnavailable } from '../../functions/core/errors.js';
import { featuresOf, isFeatureAvailable, requireFeature } from '../../functions/core/features.js';
import { FEATURES } from '../../schemas/words.js';

const defaultNumber = { whatsapp_phno: '15550001001', isDefault: true };
const additional = { whatsapp_phno: '15550001002', isDefault: false };

describe('featuresOf', () => {
  it('offers every feature on the default number', () => {
    expect(featuresOf(defaultNumber)).toEqual({
      teamInbox: true,
      broadcast: true,
      automations: true,
      ctwa: true,
      catalog: true,
      integrations: true,
      apiWebhooks: true,
    });
  });

  it('offers team inbox, broadcast and automations only on an additional number', () => {
    expect(featuresOf(additional)).toEqual({
      teamInbox: true,
      broadcast: true,
      automations: true,
      ctwa: false,
      catalog: false,
      integrations: false,
      apiWebhooks: false,
    });
  });

  it('answers for every feature it knows', () => {
    expect(Object.keys(featuresOf(additional)).sort()).toEqual([...FEATURES].sort());
  });
});

describe('requireFeature', () => {
  it('lets a default-only feature through on the default number', () => {
    expect(() => requireFeature(defaultNumber, 'catalog')).not.toThrow();
    expect(isFeatureAvailable(defaultNumber, 'apiWebhooks')).toBe(true);
  });

  it('lets an every-number feature through on an additional number', () => {
    expect(() => requireFeature(additional, 'broadcast')).not.toThrow();
  });

  it.each(['ctwa', 'catalog', 'integrations', 'apiWebhooks'] as const)('refuses %s on an additional number, naming feature and number', (feature) => {
    let caught: unknown;
    try {
      requireFeature(additional, feature);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FeatureUnavailable);
    expect(caught).toMatchObject({ code: 'FEATURE_UNAVAILABLE', statusCode: 403, details: { feature, whatsapp_phno: '15550001002' } });
  });
});
