/**
 * Catalog and click-to-WhatsApp pieces of the inbox as pure functions: an
 * order's items (Meta's decimals as integer micros), the product a message
 * asks about, an ad referral, the views that show them, and the free entry
 * window in pricing.
 */
import { describe, expect, it } from 'vitest';
import { conversationViewOf, messageViewOf } from '../../functions/core/inbox-views.js';
import type { StoredConversation, StoredMessage } from '../../functions/core/inbox-ports.js';
import { adReferralOf, decimalToMicros, orderOf, referredProductOf } from '../../functions/core/message-content.js';
import { isFreeEntry, priceFor, priceOf } from '../../functions/core/pricing.js';
import { roundPrice } from '../../functions/core/chunk-plan.js';
import { conversationView, messageView } from '../../schemas/inbox.js';
import type { RateCard } from '../../schemas/rate-card.js';
import { fixtureText } from '../support/inbox.js';

/** The first message of a fixture's first change. */
function fixtureMessage(name: string) {
  return JSON.parse(fixtureText(name)).entry[0].changes[0].value.messages[0];
}

const card: RateCard = {
  default: { MARKETING: 60_000, UTILITY: 10_000, AUTHENTICATION: 20_000 },
  byCallingCode: { '55': { MARKETING: 62_500, UTILITY: 6_800, AUTHENTICATION: 6_800 } },
};

const inbound = (content: Record<string, unknown>, messageType = String(content.type)): StoredMessage => ({
  wamid: String(content.id ?? 'wamid.X'),
  direction: 'in',
  source: 'cloud_api',
  messageType,
  text: 'x',
  status: 'received',
  timestamp: '2025-11-27T08:00:00.000Z',
  content,
});

describe('decimalToMicros', () => {
  it('converts Meta decimals to integer micros without float noise', () => {
    expect(decimalToMicros(19.9)).toBe(19_900_000);
    expect(decimalToMicros(0.1 + 0.2)).toBe(300_000);
    expect(decimalToMicros(0)).toBe(0);
  });

  it('drops what is not an amount', () => {
    expect(decimalToMicros(-1)).toBeUndefined();
    expect(decimalToMicros('19.9')).toBeUndefined();
    expect(decimalToMicros(Number.NaN)).toBeUndefined();
  });
});

describe('orderOf', () => {
  it('reads the fixture order with its items and a total per currency', () => {
    expect(orderOf(fixtureMessage('order-message.json'))).toEqual({
      catalogId: '900000000000001',
      text: 'please deliver tomorrow',
      items: [{ productRetailerId: 'sku-42', quantity: 2, itemPriceMicros: 19_900_000, currency: 'USD' }],
      totals: [{ currency: 'USD', amountMicros: 39_800_000 }],
    });
  });

  it('keeps unpriced lines out of the totals and skips lines without a product', () => {
    const order = orderOf({
      type: 'order',
      order: {
        catalog_id: '900000000000001',
        product_items: [
          { product_retailer_id: 'a', quantity: 1, item_price: 5, currency: 'BRL' },
          { product_retailer_id: 'b', quantity: 3 },
          { quantity: 1, item_price: 2, currency: 'BRL' },
          { product_retailer_id: 'c', quantity: 2, item_price: 1.5, currency: 'USD' },
        ],
      },
    });
    expect(order?.items.map((i) => i.productRetailerId)).toEqual(['a', 'b', 'c']);
    expect(order?.totals).toEqual([
      { currency: 'BRL', amountMicros: 5_000_000 },
      { currency: 'USD', amountMicros: 3_000_000 },
    ]);
  });

  it('is undefined for other messages and for an order without a catalog', () => {
    expect(orderOf(fixtureMessage('text-message.json'))).toBeUndefined();
    expect(orderOf({ type: 'order', order: { product_items: [] } })).toBeUndefined();
  });
});

describe('referredProductOf', () => {
  it('names the product a message was sent from', () => {
    const message = { type: 'text', context: { from: '15550001001', id: 'wamid.P', referred_product: { catalog_id: '900000000000001', product_retailer_id: 'sku-7' } } };
    expect(referredProductOf(message)).toEqual({ catalogId: '900000000000001', productRetailerId: 'sku-7' });
  });

  it('is undefined for a reply that refers to no product', () => {
    expect(referredProductOf({ type: 'text', context: { id: 'wamid.P' } })).toBeUndefined();
    expect(referredProductOf({ type: 'text', context: { referred_product: { catalog_id: '9' } } })).toBeUndefined();
  });
});

describe('adReferralOf', () => {
  it('reads the fixture referral, stamped with the message time and wamid', () => {
    expect(adReferralOf(fixtureMessage('ctwa-referral.json'), '2025-11-27T08:00:40.000Z')).toEqual({
      sourceId: '120200000000001',
      sourceType: 'ad',
      sourceUrl: 'https://fb.me/ad-example',
      headline: 'Black Friday',
      body: '30% off',
      mediaType: 'image',
      ctwaClid: expect.stringMatching(/^ARAk/),
      at: '2025-11-27T08:00:40.000Z',
      wamid: 'wamid.IN_REFERRAL_0001',
    });
  });

  it('is undefined without a referral, or with one that names no ad', () => {
    expect(adReferralOf(fixtureMessage('text-message.json'), '2025-11-27T08:00:00.000Z')).toBeUndefined();
    expect(adReferralOf({ id: 'wamid.R', type: 'text', referral: { headline: 'only a headline' } }, '2025-11-27T08:00:00.000Z')).toBeUndefined();
  });
});

describe('messageViewOf', () => {
  it('shows an inbound order with its items, matching the API schema', () => {
    const view = messageViewOf(inbound(fixtureMessage('order-message.json')));
    expect(view.order?.items[0]).toEqual({ productRetailerId: 'sku-42', quantity: 2, itemPriceMicros: 19_900_000, currency: 'USD' });
    expect(messageView.parse(view)).toEqual(view);
  });

  it('names the product an inbound message asks about', () => {
    const content = { id: 'wamid.P', type: 'text', text: { body: 'Is it in stock?' }, context: { referred_product: { catalog_id: '900000000000001', product_retailer_id: 'sku-7' } } };
    const view = messageViewOf(inbound(content));
    expect(view.product).toEqual({ catalogId: '900000000000001', productRetailerId: 'sku-7' });
    expect(view.order).toBeUndefined();
    expect(messageView.parse(view)).toEqual(view);
  });

  it('shows neither on an outbound message nor on a message stored without its content', () => {
    const order = fixtureMessage('order-message.json');
    expect(messageViewOf({ ...inbound(order), direction: 'out' }).order).toBeUndefined();
    const { content: _content, ...bare } = inbound(order);
    expect(messageViewOf(bare)).not.toHaveProperty('order');
  });
});

describe('conversationViewOf', () => {
  const conversation: StoredConversation = { accountId: 'acc_1', whatsappPhno: '15550001001', contactKey: '5511987650001', kind: 'direct', unreadCount: 1 };

  it('shows null attribution where there is none', () => {
    const view = conversationViewOf(conversation);
    expect(view).toMatchObject({ adReferral: null, freeEntryUntil: null });
    expect(conversationView.parse(view)).toEqual(view);
  });

  it('shows the ad referral and the free entry window', () => {
    const adReferral = adReferralOf(fixtureMessage('ctwa-referral.json'), '2025-11-27T08:00:40.000Z')!;
    const view = conversationViewOf({ ...conversation, adReferral, freeEntryUntil: '2025-11-30T08:00:40.000Z' });
    expect(view).toMatchObject({ adReferral: { sourceId: '120200000000001', headline: 'Black Friday' }, freeEntryUntil: '2025-11-30T08:00:40.000Z' });
    expect(conversationView.parse(view)).toEqual(view);
  });
});

describe('priceFor and the free entry window', () => {
  const at = new Date('2025-11-28T00:00:00.000Z');

  it('prices 0 while the free entry window is open, whatever the category', () => {
    for (const category of ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const) {
      expect(priceFor(card, category, '5511987650001', { freeEntryUntil: '2025-11-28T00:00:01.000Z' }, at)).toBe(0);
    }
  });

  it('prices by the rate card once it closed, or without one', () => {
    expect(priceFor(card, 'MARKETING', '5511987650001', { freeEntryUntil: '2025-11-28T00:00:00.000Z' }, at)).toBe(62_500);
    expect(priceFor(card, 'MARKETING', '5511987650001', { freeEntryUntil: null }, at)).toBe(priceOf(card, 'MARKETING', '5511987650001'));
    expect(priceFor(card, 'UTILITY', '4479000000', {}, at)).toBe(10_000);
  });

  it('treats a malformed time as closed', () => {
    expect(isFreeEntry({ freeEntryUntil: 'not a time' }, at)).toBe(false);
  });
});

describe('roundPrice', () => {
  const price = (waId: string) => priceOf(card, 'MARKETING', waId);

  it('charges 0 to the recipients the plan found inside a free entry window, the rate card to the rest', () => {
    const plan = { broadcastId: 'b', chunk: 0, round: 0, recipients: ['5511987650001', '5511987650002'], deferred: [], freeEntry: ['5511987650001'] };
    expect(roundPrice({ plan, price }, '5511987650001')).toBe(0);
    expect(roundPrice({ plan, price }, '5511987650002')).toBe(62_500);
  });

  it('charges the rate card before a plan exists', () => {
    expect(roundPrice({ price }, '5511987650001')).toBe(62_500);
  });
});
