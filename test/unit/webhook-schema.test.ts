/**
 * `schemas/meta-webhook.ts`: every fixture parses, every message type Meta
 * documents parses typed, and the schemas tolerate what Meta changes.
 */
import { describe, expect, it } from 'vitest';
import {
  accountUpdate,
  messageStatus,
  phoneNumberQualityUpdate,
  templateStatusUpdate,
  webhookDelivery,
  webhookEnvelope,
} from '../../schemas/meta-webhook.js';
import { inboundMessage } from '../../schemas/meta-message.js';
import { fixtureJson, fixtureNames } from '../support/webhook.js';

const base = { id: 'wamid.X', from: '16505550002', timestamp: '1764230400' };

describe('webhookDelivery', () => {
  it.each(fixtureNames())('parses the fixture %s whole', (name) => {
    const result = webhookDelivery.safeParse(fixtureJson(name));
    expect(result.error?.issues).toBeUndefined();
  });

  it('refuses a payload of another object type', () => {
    expect(webhookEnvelope.safeParse({ object: 'page', entry: [] }).success).toBe(false);
  });
});

describe('inboundMessage', () => {
  const typed: [string, Record<string, unknown>][] = [
    ['text', { text: { body: 'hi' } }],
    ['image', { image: { id: 'm1', mime_type: 'image/jpeg', sha256: 'x', caption: 'c' } }],
    ['audio', { audio: { id: 'm2', mime_type: 'audio/ogg', voice: true } }],
    ['video', { video: { id: 'm3', mime_type: 'video/mp4' } }],
    ['document', { document: { id: 'm4', filename: 'a.pdf', mime_type: 'application/pdf' } }],
    ['sticker', { sticker: { id: 'm5', mime_type: 'image/webp', animated: false } }],
    ['interactive', { interactive: { type: 'button_reply', button_reply: { id: 'b1', title: 'Yes' } } }],
    ['interactive', { interactive: { type: 'list_reply', list_reply: { id: 'l1', title: 'Row', description: 'd' } } }],
    ['interactive', { interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"a":1}' } } }],
    ['button', { button: { payload: 'STOP', text: 'Stop' } }],
    ['reaction', { reaction: { message_id: 'wamid.OUT', emoji: '👍' } }],
    ['location', { location: { latitude: 1.5, longitude: -2.5, name: 'Shop' } }],
    ['contacts', { contacts: [{ name: { formatted_name: 'Ana' }, phones: [{ phone: '+55 11 98765 0001', wa_id: '5511987650001' }] }] }],
    ['order', { order: { catalog_id: 'c1', product_items: [{ product_retailer_id: 'sku', quantity: 1, item_price: 9.9, currency: 'USD' }] } }],
    ['system', { system: { body: 'changed number', type: 'customer_changed_number', new_wa_id: '5511987650009' } }],
    ['unsupported', { errors: [{ code: 131051, title: 'Message type unknown' }] }],
  ];

  it.each(typed)('keeps a %s message typed', (type, body) => {
    const message = inboundMessage.parse({ ...base, type, ...body });
    expect(message.type).toBe(type);
    expect(message.original_type).toBeUndefined();
  });

  it('turns an unknown type into unsupported and keeps the original type and body', () => {
    const message = inboundMessage.parse({ ...base, type: 'hologram', hologram: { depth: 3 } });
    expect(message).toMatchObject({ type: 'unsupported', original_type: 'hologram', hologram: { depth: 3 } });
  });

  it('keeps a known type whose body is malformed as unsupported instead of failing', () => {
    const message = inboundMessage.parse({ ...base, type: 'location', location: { latitude: 'north' } });
    expect(message).toMatchObject({ type: 'unsupported', original_type: 'location' });
  });

  it('keeps fields Meta adds', () => {
    const message = inboundMessage.parse({ ...base, type: 'text', text: { body: 'hi', rich: true }, brand_new: 1 });
    expect(message).toMatchObject({ text: { body: 'hi', rich: true }, brand_new: 1 });
  });

  it('keeps context and referral', () => {
    const message = inboundMessage.parse({
      ...base,
      type: 'text',
      text: { body: 'info' },
      context: { from: '15550001001', id: 'wamid.OUT_1' },
      referral: { source_id: 'ad-1', source_type: 'ad', ctwa_clid: 'clid' },
    });
    expect(message.context?.id).toBe('wamid.OUT_1');
    expect(message.referral?.ctwa_clid).toBe('clid');
  });

  it('accepts a username-only sender identified by from_user_id', () => {
    const message = inboundMessage.parse({ id: 'wamid.U', from_user_id: 'US.123', timestamp: '1', type: 'text', text: { body: 'x' } });
    expect(message.from).toBeUndefined();
    expect(message.from_user_id).toBe('US.123');
  });

  it('drops a context in an unexpected shape and keeps the message', () => {
    const message = inboundMessage.parse({ ...base, type: 'text', text: { body: 'hi' }, context: 'wamid.OUT' });
    expect(message).toMatchObject({ type: 'text', text: { body: 'hi' } });
    expect(message.context).toBeUndefined();
  });

  it('fails a message without an id (it could never be deduplicated)', () => {
    expect(inboundMessage.safeParse({ from: '1', timestamp: '1', type: 'text', text: { body: 'x' } }).success).toBe(false);
  });
});

describe('messageStatus', () => {
  it('accepts a status without the retiring conversation and pricing.billable', () => {
    const status = messageStatus.parse({ id: 'wamid.O', status: 'delivered', timestamp: '1', recipient_id: '1', pricing: { pricing_model: 'PMP', category: 'marketing' } });
    expect(status.conversation).toBeUndefined();
    expect(status.pricing?.billable).toBeUndefined();
  });

  it('drops pricing in an unexpected shape and keeps the status', () => {
    const status = messageStatus.parse({ id: 'wamid.O', status: 'sent', timestamp: '1', pricing: 'free', conversation: { origin: { type: 7 } } });
    expect(status).toMatchObject({ id: 'wamid.O', status: 'sent' });
    expect(status.pricing).toBeUndefined();
    expect(status.conversation).toBeUndefined();
  });

  it('fails a status without its status (its event id needs it)', () => {
    expect(messageStatus.safeParse({ id: 'wamid.O', timestamp: '1' }).success).toBe(false);
  });

  it('keeps errors and biz_opaque_callback_data of a failed status', () => {
    const status = messageStatus.parse({
      id: 'wamid.O',
      status: 'failed',
      timestamp: '1',
      biz_opaque_callback_data: 'bc:brd_1',
      errors: [{ code: 131049, title: 't', error_data: { details: 'd' } }],
    });
    expect(status.errors?.[0]?.code).toBe(131049);
    expect(status.biz_opaque_callback_data).toBe('bc:brd_1');
  });
});

describe('WABA-level updates', () => {
  it('parses a template status update with a numeric template id', () => {
    expect(templateStatusUpdate.parse({ event: 'REJECTED', message_template_id: 1, reason: 'INVALID_FORMAT' }).reason).toBe('INVALID_FORMAT');
  });

  it('parses a quality update without the retiring current_limit', () => {
    const update = phoneNumberQualityUpdate.parse({ display_phone_number: '15550001002', event: 'UPGRADE', max_daily_conversations_per_business: 'TIER_2K' });
    expect(update.current_limit).toBeUndefined();
    expect(update.max_daily_conversations_per_business).toBe('TIER_2K');
  });

  it('parses an account update with ban info', () => {
    expect(accountUpdate.parse({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE' } }).ban_info?.waba_ban_state).toBe('DISABLE');
  });
});
