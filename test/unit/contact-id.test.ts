import { describe, expect, it } from 'vitest';
import { contactIdentity } from '../../functions/core/contact-id.js';
import { canonicalWaId, conversationIdOf, parseConversationId } from '../../schemas/whatsapp-ids.js';

describe('canonicalWaId', () => {
  it('keeps digits only', () => {
    expect(canonicalWaId('+1 (650) 555-0002')).toBe('16505550002');
  });

  it('refuses what cannot be a number', () => {
    expect(canonicalWaId('abc')).toBeUndefined();
    expect(canonicalWaId('12345')).toBeUndefined();
    expect(canonicalWaId('0123456789')).toBeUndefined();
    expect(canonicalWaId('1234567890123456')).toBeUndefined();
  });

  it('adds the ninth digit to a legacy 8-digit Brazilian mobile', () => {
    expect(canonicalWaId('551187650001')).toBe('5511987650001');
  });

  it('leaves a current 9-digit Brazilian mobile as it is', () => {
    expect(canonicalWaId('5511987650001')).toBe('5511987650001');
  });

  it('gives both Brazilian forms of one mobile the same id', () => {
    expect(canonicalWaId('552198765432')).toBe(canonicalWaId('5521998765432'));
  });

  it('leaves an 8-digit Brazilian landline (2-5) without a ninth digit', () => {
    expect(canonicalWaId('551132654321')).toBe('551132654321');
  });

  it('drops the old mobile 1 of a Mexican number', () => {
    expect(canonicalWaId('5215512345678')).toBe('525512345678');
    expect(canonicalWaId('525512345678')).toBe('525512345678');
  });

  it('drops the mobile 9 of an Argentine number', () => {
    expect(canonicalWaId('5491123456789')).toBe('541123456789');
    expect(canonicalWaId('541123456789')).toBe('541123456789');
  });

  it('does not touch other countries that look alike', () => {
    // 44 (UK) and 1 (NANP) numbers pass through unchanged.
    expect(canonicalWaId('447700900123')).toBe('447700900123');
    expect(canonicalWaId('15215512345')).toBe('15215512345');
  });
});

describe('contactIdentity', () => {
  it('keys by the canonical number when there is one', () => {
    expect(contactIdentity({ waId: '551187650001', userId: 'BR.1502576394655843' })).toEqual({
      contactKey: '5511987650001',
      waId: '5511987650001',
      userId: 'BR.1502576394655843',
    });
  });

  it('keys by the BSUID when Meta gives no number', () => {
    expect(contactIdentity({ userId: 'US.13491208655302741918' })).toEqual({ contactKey: 'US.13491208655302741918', userId: 'US.13491208655302741918' });
  });

  it('refuses an event with neither a number nor a well-formed BSUID', () => {
    expect(contactIdentity({})).toBeUndefined();
    expect(contactIdentity({ userId: 'US#1' })).toBeUndefined();
  });
});

describe('conversation ids', () => {
  it('round-trips number and contact', () => {
    const id = conversationIdOf('15550001001', '5511987650001');
    expect(id).toBe('15550001001_5511987650001');
    expect(parseConversationId(id)).toEqual({ whatsappPhno: '15550001001', contactKey: '5511987650001' });
  });

  it('round-trips a BSUID contact', () => {
    expect(parseConversationId(conversationIdOf('15550001001', 'US.ENT.1181579921'))).toEqual({ whatsappPhno: '15550001001', contactKey: 'US.ENT.1181579921' });
  });

  it('refuses ids this API never mints', () => {
    expect(parseConversationId('15550001001')).toBeUndefined();
    expect(parseConversationId('15550001001_551187650001')).toBeUndefined(); // legacy form: not canonical
    expect(parseConversationId('15550001001_abc#def')).toBeUndefined();
    expect(parseConversationId('x_5511987650001')).toBeUndefined();
  });
});
