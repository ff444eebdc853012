import { describe, expect, it } from 'vitest';
import { displayText, metaTime, preview, storedType } from '../../functions/core/message-content.js';
import { fixtureText } from '../support/inbox.js';

/** The first message of a fixture's first change. */
function fixtureMessage(name: string) {
  return JSON.parse(fixtureText(name)).entry[0].changes[0].value.messages[0];
}

describe('displayText per message type', () => {
  it.each([
    ['text-message.json', 'Oi! Vocês entregam em Campinas?'],
    ['image-message.json', 'este modelo'],
    ['interactive-button-reply.json', 'Talk to sales'],
    ['template-quick-reply.json', 'Parar promoções'],
    ['location-message.json', 'Loja Centro'],
    ['reaction-message.json', '👍'],
    ['order-message.json', 'please deliver tomorrow'],
    ['unsupported-message.json', '[unsupported]'],
  ])('%s shows %j', (fixture, expected) => {
    expect(displayText(fixtureMessage(fixture))).toBe(expected);
  });

  it('labels media without a caption by its type', () => {
    for (const type of ['image', 'video', 'audio', 'sticker', 'document']) {
      expect(displayText({ type, [type]: { id: '1' } })).toBe(`[${type}]`);
    }
  });

  it('names a document by its file name when it has no caption', () => {
    expect(displayText({ type: 'document', document: { id: '1', filename: 'invoice.pdf' } })).toBe('[document] invoice.pdf');
  });

  it('labels a voice note', () => {
    expect(displayText({ type: 'audio', audio: { id: '1', voice: true } })).toBe('[voice message]');
  });

  it('shows a list reply by its title', () => {
    expect(displayText({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'x', title: 'Opção 2' } } })).toBe('Opção 2');
  });

  it('labels a flow (nfm) reply', () => {
    expect(displayText({ type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { response_json: '{}' } } })).toBe('[form reply]');
  });

  it('names shared contacts', () => {
    expect(displayText({ type: 'contacts', contacts: [{ name: { formatted_name: 'Ana Lima' } }, { name: { formatted_name: 'Rui' } }] })).toBe('[contact] Ana Lima, Rui');
  });

  it('reports a removed reaction', () => {
    expect(displayText({ type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '' } })).toBe('[reaction removed]');
  });

  it('falls back to the address, then a label, for a location without a name', () => {
    expect(displayText({ type: 'location', location: { latitude: 1, longitude: 2, address: 'Rua A, 1' } })).toBe('Rua A, 1');
    expect(displayText({ type: 'location', location: { latitude: 1, longitude: 2 } })).toBe('[location]');
  });

  it('counts an order\'s items when it carries no text', () => {
    expect(displayText({ type: 'order', order: { product_items: [{}, {}] } })).toBe('[order] 2 items');
  });

  it('shows a system message\'s body', () => {
    expect(displayText({ type: 'system', system: { body: 'User changed number' } })).toBe('User changed number');
  });

  it('labels a type it does not know as unsupported', () => {
    expect(displayText({ type: 'hologram', hologram: {} })).toBe('[unsupported]');
  });
});

describe('storedType', () => {
  it('keeps known types and stores unknown ones as unsupported', () => {
    expect(storedType('image')).toBe('image');
    expect(storedType('hologram')).toBe('unsupported');
  });
});

describe('preview', () => {
  it('puts the text on one line and cuts it at 120 characters', () => {
    expect(preview('a\n\nb')).toBe('a b');
    const long = preview('x'.repeat(500));
    expect(long).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('metaTime', () => {
  it('reads Meta\'s epoch seconds', () => {
    expect(metaTime('1764230400', '2000-01-01T00:00:00.000Z')).toBe('2025-11-27T08:00:00.000Z');
  });

  it('falls back to the delivery time when the timestamp is unusable', () => {
    expect(metaTime('soon', '2026-01-02T03:04:05.000Z')).toBe('2026-01-02T03:04:05.000Z');
  });
});
