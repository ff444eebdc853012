/**
 * The contact identity rule as ingestion applies it (`pairSenderContact`,
 * docs/architecture.md "Contact identity"): the message's `from` (or
 * `from_user_id`) is the sender; a change's contacts entry counts only when it
 * names that same user, and stands in only when the message names nobody.
 */
import { describe, expect, it } from 'vitest';
import { pairSenderContact } from '../../functions/core/contact-id.js';

const maria = { wa_id: '5511987650001', profile: { name: 'Maria Souza' } };
const other = { wa_id: '5511987650009', profile: { name: 'Someone Else' } };

describe('pairSenderContact', () => {
  it('pairs the sender with the entry that names them, among several', () => {
    expect(pairSenderContact({ waId: '5511987650001' }, [other, maria])).toEqual({ identity: { contactKey: '5511987650001', waId: '5511987650001' }, contact: maria });
  });

  it('ignores a single entry naming someone else: the sender stays `from`, with no contact', () => {
    expect(pairSenderContact({ waId: '5511987650005' }, [other])).toEqual({ identity: { contactKey: '5511987650005', waId: '5511987650005' } });
  });

  it('ignores a placeholder entry', () => {
    expect(pairSenderContact({ waId: '5511987650005' }, [{ wa_id: '<USER_PHONE_NUMBER>', user_id: '<BSUID>' }])).toEqual({ identity: { contactKey: '5511987650005', waId: '5511987650005' } });
  });

  it('matches by the canonical number, so a legacy Brazilian wa_id still names the sender', () => {
    const legacy = { wa_id: '551187650001', profile: { name: 'Maria Souza' } };
    expect(pairSenderContact({ waId: '5511987650001' }, [legacy]).contact).toBe(legacy);
  });

  it('takes the BSUID of a matching entry, never its number over the message\'s', () => {
    const entry = { wa_id: '5511987650001', user_id: 'BR.1502576394655843' };
    expect(pairSenderContact({ waId: '5511987650001' }, [entry]).identity).toEqual({ contactKey: '5511987650001', waId: '5511987650001', userId: 'BR.1502576394655843' });
    // Same BSUID, another number: not the sender's entry.
    expect(pairSenderContact({ waId: '5511987650005', userId: 'BR.1502576394655843' }, [entry])).toEqual({
      identity: { contactKey: '5511987650005', waId: '5511987650005', userId: 'BR.1502576394655843' },
    });
  });

  it('pairs a username-only sender (from_user_id, no phone) by BSUID', () => {
    const entry = { user_id: 'US.13491208655302741918', profile: { name: 'Pablo' } };
    expect(pairSenderContact({ userId: 'US.13491208655302741918' }, [entry])).toEqual({ identity: { contactKey: 'US.13491208655302741918', userId: 'US.13491208655302741918' }, contact: entry });
  });

  it('lets the single entry stand in when the message names nobody usable', () => {
    const entry = { user_id: 'US.13491208655302741918' };
    expect(pairSenderContact({}, [entry])).toEqual({ identity: { contactKey: 'US.13491208655302741918', userId: 'US.13491208655302741918' }, contact: entry });
    expect(pairSenderContact({ waId: '<WHATSAPP_USER_PHONE_NUMBER>' }, [maria]).identity?.contactKey).toBe('5511987650001');
  });

  it('finds no sender when neither the message nor a single usable entry names one', () => {
    expect(pairSenderContact({}, [])).toEqual({});
    expect(pairSenderContact({}, [maria, other])).toEqual({});
    expect(pairSenderContact({ waId: 'PHONE_NUMBER' }, [{ wa_id: 'WHATSAPP_ID', user_id: 'BSUID_123' }])).toEqual({});
  });
});
