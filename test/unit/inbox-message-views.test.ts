/**
 * What the inbox shows for what really happened (issue 16): call permission
 * answers, edits and deletions read from Meta's messages, the sender rule,
 * group keys in conversation ids, and the message and conversation views.
 */
import { describe, expect, it } from 'vitest';
import { senderOf } from '../../functions/core/contact-id.js';
import type { StoredConversation, StoredMessage } from '../../functions/core/inbox-ports.js';
import { conversationViewOf, messageViewOf } from '../../functions/core/inbox-views.js';
import { amendmentOf, displayText } from '../../functions/core/message-content.js';
import { conversationView, messageView } from '../../schemas/inbox.js';
import { conversationIdOf, groupContactKey, groupIdOfKey, parseConversationId } from '../../schemas/whatsapp-ids.js';

describe('displayText of a call permission reply', () => {
  const reply = (response: string) => ({ type: 'interactive', interactive: { type: 'call_permission_reply', call_permission_reply: { response } } });
  it('says accepted or rejected', () => {
    expect(displayText(reply('accept'))).toBe('[call permission: accepted]');
    expect(displayText(reply('reject'))).toBe('[call permission: rejected]');
    expect(displayText(reply('later'))).toBe('[call permission: later]');
  });
});

describe('amendmentOf', () => {
  it('reads an edit (text or caption) and a revoke, also when the parser kept them as unsupported', () => {
    expect(amendmentOf({ type: 'edit', edit: { original_message_id: 'wamid.A', message: { type: 'text', text: { body: 'new' } } } })).toEqual({
      kind: 'edit',
      originalWamid: 'wamid.A',
      text: 'new',
    });
    expect(
      amendmentOf({ type: 'unsupported', original_type: 'edit', edit: { original_message_id: 'wamid.B', message: { type: 'image', image: { id: '1', caption: 'Updated caption' } } } }),
    ).toEqual({ kind: 'edit', originalWamid: 'wamid.B', text: 'Updated caption' });
    expect(amendmentOf({ type: 'revoke', revoke: { original_message_id: 'wamid.C' } })).toEqual({ kind: 'revoke', originalWamid: 'wamid.C' });
  });

  it('is undefined for any other message, or an edit naming no original', () => {
    expect(amendmentOf({ type: 'text', text: { body: 'hi' } })).toBeUndefined();
    expect(amendmentOf({ type: 'edit', edit: {} })).toBeUndefined();
  });
});

describe('senderOf', () => {
  it('takes `from`; the contact entry adds its name and BSUID only when it is the same user', () => {
    const entry = { wa_id: '5511987650001', user_id: 'BR.1502576394655843', profile: { name: 'Maria' } };
    expect(senderOf({ from: '5511987650001' }, entry)).toEqual({ waId: '5511987650001', userId: 'BR.1502576394655843', name: 'Maria' });
    expect(senderOf({ from: '5511987650005' }, entry)).toEqual({ waId: '5511987650005' });
    expect(senderOf({ from_user_id: 'BR.1502576394655843' }, { user_id: 'BR.1502576394655843', profile: { name: 'Bia' } })).toEqual({
      userId: 'BR.1502576394655843',
      name: 'Bia',
    });
  });

  it('lets the entry stand in when `from` names nobody usable, and names nobody when neither does', () => {
    expect(senderOf({ from: '<WHATSAPP_USER_PHONE_NUMBER>' }, { wa_id: '5511987650004', profile: { name: 'Ana' } })).toEqual({ waId: '5511987650004', name: 'Ana' });
    expect(senderOf({ from: 'PHONE_NUMBER' }, { wa_id: 'WHATSAPP_ID' })).toEqual({});
  });
});

describe('group keys', () => {
  it('round-trips a group id through its key and the conversation id', () => {
    const id = 'Y2FwaV9ncm91cDoxNTU1MDAwMTAwMToxMjAzNjMwMDAwMDAwMDE';
    const key = groupContactKey(id);
    expect(key).toBe(`group.${id}`);
    expect(parseConversationId(conversationIdOf('15550001001', key))).toEqual({ whatsappPhno: '15550001001', contactKey: key });
    expect(groupIdOfKey(key)).toBe(id);
  });

  it('hex-encodes an id with other characters, keeping the conversation id URL-safe', () => {
    const key = groupContactKey('abc+/=');
    expect(key).toMatch(/^group\.x\.[0-9a-f]+$/);
    expect(groupIdOfKey(key)).toBe('abc+/=');
    expect(parseConversationId(conversationIdOf('15550001001', key))?.contactKey).toBe(key);
    expect(parseConversationId('15550001001_group.x.zz')).toBeUndefined();
  });
});

describe('messageViewOf', () => {
  const base: StoredMessage = { wamid: 'wamid.A', direction: 'in', messageType: 'text', text: 'new', status: 'received', timestamp: '2025-11-27T08:00:00.000Z', source: 'cloud_api' };

  it('shows an edited message with its earlier versions, in the documented shape', () => {
    const view = messageViewOf({ ...base, editedAt: '2025-11-27T08:01:00.000Z', edits: [{ text: 'old', at: '2025-11-27T08:00:00.000Z' }] });
    expect(messageView.parse(view)).toEqual(view);
    expect(view).toMatchObject({ text: 'new', editedAt: '2025-11-27T08:01:00.000Z', edits: [{ text: 'old' }] });
  });

  it('withholds a deleted message\'s text, versions and content, keeping the fact', () => {
    const order = { type: 'order', order: { catalog_id: 'cat', product_items: [{ product_retailer_id: 'sku', quantity: 1 }] } };
    const view = messageViewOf({ ...base, messageType: 'order', content: order, edits: [{ text: 'old', at: base.timestamp }], deleted: true, deletedAt: '2025-11-27T08:05:00.000Z' });
    expect(messageView.parse(view)).toEqual(view);
    expect(view).toEqual({ wamid: 'wamid.A', direction: 'in', type: 'order', text: null, status: 'received', timestamp: base.timestamp, source: 'cloud_api', deleted: true, deletedAt: '2025-11-27T08:05:00.000Z' });
  });

  it('names a group message\'s member and an echo\'s source', () => {
    const view = messageViewOf({ ...base, source: 'business_app', from: { waId: '5511987650004', name: 'Ana' } });
    expect(messageView.parse(view)).toEqual(view);
    expect(view).toMatchObject({ source: 'business_app', from: { waId: '5511987650004', name: 'Ana' } });
  });
});

describe('conversationViewOf', () => {
  it('shows a group conversation\'s kind and group id', () => {
    const conversation: StoredConversation = { accountId: 'acc_1', whatsappPhno: '15550001001', contactKey: 'group.G1', kind: 'group', groupId: 'G1', unreadCount: 2 };
    const view = conversationViewOf(conversation);
    expect(conversationView.parse(view)).toEqual(view);
    expect(view).toMatchObject({ conversationId: '15550001001_group.G1', kind: 'group', groupId: 'G1', waId: null });
  });
});
