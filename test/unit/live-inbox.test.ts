/**
 * `withLiveUpdates` (functions/core/live-inbox.ts) on an in-memory stand-in
 * of the inbox repository: what each write publishes, what it does not, and
 * that a push that fails never fails the write it follows.
 */
import { describe, expect, it } from 'vitest';
import type { ConversationRef, InboundMessage, InboxRepository, StatusChange, StoredConversation, StoredMessage } from '../../functions/core/inbox-ports.js';
import { type LiveMessageLookup, withLiveUpdates } from '../../functions/core/live-inbox.js';
import type { LiveUpdate, LiveUpdates } from '../../functions/core/live-updates.js';

const REF: ConversationRef = { accountId: 'acc_live', whatsappPhno: '15550001001', contactKey: '5511987650001' };
const CONVERSATION_ID = '15550001001_5511987650001';

function conversation(overrides: Partial<StoredConversation> = {}): StoredConversation {
  return { ...REF, kind: 'direct', waId: REF.contactKey, unreadCount: 1, lastMessageAt: '2026-12-02T10:00:00.000Z', ...overrides };
}

function inbound(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    ...REF,
    phoneNumberId: '110000000000001',
    eventId: 'wamid.LIVE_1',
    identity: { waId: REF.contactKey } as InboundMessage['identity'],
    wamid: 'wamid.LIVE_1',
    messageType: 'text',
    text: 'Oi!',
    timestamp: '2026-12-02T10:00:00.000Z',
    content: { type: 'text', text: { body: 'Oi!' } },
    receivedAt: '2026-12-02T10:00:01.000Z',
    ...overrides,
  };
}

const STORED: StoredMessage = { wamid: 'wamid.OUT_1', direction: 'out', messageType: 'text', text: 'Sim!', status: 'delivered', timestamp: '2026-12-02T10:01:00.000Z', source: 'cloud_api' };

/** Just the writes and reads the decorator calls; each records that it ran. */
function fakeInbox(behaviour: { statusOutcome?: 'applied' | 'stale'; inboundOutcome?: 'recorded' | 'duplicate'; failWrites?: boolean } = {}) {
  const calls: string[] = [];
  const stored = conversation();
  const write = <T>(name: string, value: T) => async () => {
    calls.push(name);
    if (behaviour.failWrites) throw new Error(`${name} failed in the table`);
    return value;
  };
  const inbox = {
    recordInbound: write('recordInbound', behaviour.inboundOutcome ?? 'recorded'),
    recordStatus: write('recordStatus', behaviour.statusOutcome ?? 'applied'),
    assignTeam: async (_ref: ConversationRef, teamId: string, userId?: string) => {
      calls.push('assignTeam');
      if (behaviour.failWrites) throw new Error('assignTeam failed in the table');
      return { ...stored, assignedTeamId: teamId, ...(userId ? { assignedUserId: userId } : {}) };
    },
    markRead: async () => {
      calls.push('markRead');
      return { ...stored, unreadCount: 0 };
    },
    // A write the decorator does not name: wrapped by the generic rule (a ConversationRef first → conversation.updated).
    setStatus: async (ref: ConversationRef, status: string) => {
      calls.push('setStatus');
      return { ...stored, ...ref, status };
    },
    getConversation: async () => {
      calls.push('getConversation');
      return stored;
    },
    listConversations: async () => {
      calls.push('listConversations');
      return { items: [stored] };
    },
  } as unknown as InboxRepository;
  return { inbox, calls };
}

function recordingLive(options: { fail?: boolean; listening?: string[] } = {}) {
  const published: LiveUpdate[] = [];
  const live: LiveUpdates = {
    async publish(update) {
      if (options.fail) throw new Error('PostToConnection: 500');
      published.push(update);
    },
    async listens(_accountId, whatsappPhno) {
      return options.listening ? options.listening.includes(whatsappPhno) : true;
    },
  };
  return { live, published };
}

const lookup = (message: StoredMessage | null = STORED): LiveMessageLookup & { reads: number } => {
  const state = { reads: 0 };
  return Object.assign(state, {
    async byWamid() {
      state.reads += 1;
      return message ? { ref: REF, message } : undefined;
    },
    async at() {
      state.reads += 1;
      return message ?? undefined;
    },
  });
};

const status = (wamid = 'wamid.OUT_1'): StatusChange =>
  ({ accountId: REF.accountId, whatsappPhno: REF.whatsappPhno, phoneNumberId: '110000000000001', wamid, status: 'delivered', timestamp: '2026-12-02T10:02:00.000Z' }) as unknown as StatusChange;

describe('withLiveUpdates: what each write publishes', () => {
  it('an inbound message is published as message.created, built from the write itself (no read back)', async () => {
    const { inbox } = fakeInbox();
    const { live, published } = recordingLive();
    const messages = lookup();
    const wrapped = withLiveUpdates(inbox, live, { messages });

    expect(await wrapped.recordInbound(inbound())).toBe('recorded');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ type: 'message.created', accountId: 'acc_live', whatsapp_phno: '15550001001', conversationId: CONVERSATION_ID });
    expect(published[0]).toHaveProperty('message.wamid', 'wamid.LIVE_1');
    expect(published[0]).toHaveProperty('message.direction', 'in');
    expect(messages.reads).toBe(0);
  });

  it('a redelivered inbound message is published again (at least once: the client upserts by wamid)', async () => {
    const { inbox } = fakeInbox({ inboundOutcome: 'duplicate' });
    const { live, published } = recordingLive();
    const wrapped = withLiveUpdates(inbox, live, { messages: lookup() });
    expect(await wrapped.recordInbound(inbound())).toBe('duplicate');
    expect(published.map((update) => update.type)).toEqual(['message.created']);
  });

  it('an applied status publishes message.updated with the message read back; a stale one publishes nothing', async () => {
    const appliedLive = recordingLive();
    const appliedWrapped = withLiveUpdates(fakeInbox({ statusOutcome: 'applied' }).inbox, appliedLive.live, { messages: lookup() });
    expect(await appliedWrapped.recordStatus(status())).toBe('applied');
    expect(appliedLive.published).toHaveLength(1);
    expect(appliedLive.published[0]).toMatchObject({ type: 'message.updated', conversationId: CONVERSATION_ID });
    expect(appliedLive.published[0]).toHaveProperty('message.status', 'delivered');

    const staleLive = recordingLive();
    const messages = lookup();
    const stale = withLiveUpdates(fakeInbox({ statusOutcome: 'stale' }).inbox, staleLive.live, { messages });
    expect(await stale.recordStatus(status())).toBe('stale');
    expect(staleLive.published).toEqual([]);
    expect(messages.reads).toBe(0);
  });

  it('a status of a message that is not stored (only a placeholder) publishes nothing', async () => {
    const { live, published } = recordingLive();
    const wrapped = withLiveUpdates(fakeInbox().inbox, live, { messages: lookup(null) });
    expect(await wrapped.recordStatus(status('wamid.UNKNOWN'))).toBe('applied');
    expect(published).toEqual([]);
  });

  it('assign, read and any other write naming a conversation publish conversation.updated with what the write returned', async () => {
    const { inbox, calls } = fakeInbox();
    const { live, published } = recordingLive();
    const wrapped = withLiveUpdates(inbox, live, { messages: lookup() });

    const assigned = await wrapped.assignTeam(REF, 'team_support', 'usr_ana');
    expect(assigned.assignedUserId).toBe('usr_ana');
    await wrapped.markRead(REF);
    await (wrapped as unknown as { setStatus(ref: ConversationRef, status: string): Promise<StoredConversation> }).setStatus(REF, 'resolved');

    expect(published.map((update) => update.type)).toEqual(['conversation.updated', 'conversation.updated', 'conversation.updated']);
    const views = published.map((update) => (update.type === 'conversation.updated' ? update.conversation : undefined));
    expect(views[0]).toMatchObject({ conversationId: CONVERSATION_ID, assignedTeamId: 'team_support', assignedUserId: 'usr_ana' });
    expect(views[1]).toMatchObject({ unreadCount: 0 });
    expect(views[2]).toMatchObject({ status: 'resolved' });
    // What the write returned was used: nothing was read back.
    expect(calls).not.toContain('getConversation');
  });

  it('reads publish nothing', async () => {
    const { live, published } = recordingLive();
    const wrapped = withLiveUpdates(fakeInbox().inbox, live, { messages: lookup() });
    await wrapped.getConversation(REF);
    await (wrapped as unknown as { listConversations(): Promise<unknown> }).listConversations();
    expect(published).toEqual([]);
  });

  it('nobody listening to the number: nothing is read back and nothing is published', async () => {
    const { live, published } = recordingLive({ listening: ['15550001002'] });
    const messages = lookup();
    const wrapped = withLiveUpdates(fakeInbox().inbox, live, { messages });
    await wrapped.recordStatus(status());
    await wrapped.recordInbound(inbound());
    expect(published).toEqual([]);
    expect(messages.reads).toBe(0);
  });
});

describe('withLiveUpdates: a failing push never fails the write', () => {
  it('the write stands and its result is returned; the failure is reported with the update it was', async () => {
    const { inbox, calls } = fakeInbox();
    const { live } = recordingLive({ fail: true });
    const failures: { type: string; accountId: string; whatsappPhno: string; message: string }[] = [];
    const wrapped = withLiveUpdates(inbox, live, {
      messages: lookup(),
      onFailure: (error, update) => failures.push({ ...update, message: (error as Error).message }),
    });

    expect(await wrapped.recordInbound(inbound())).toBe('recorded');
    expect(await wrapped.recordStatus(status())).toBe('applied');
    expect((await wrapped.assignTeam(REF, 'team_support')).assignedTeamId).toBe('team_support');
    expect(calls).toEqual(['recordInbound', 'recordStatus', 'assignTeam']);
    expect(failures).toEqual([
      { type: 'message.created', accountId: 'acc_live', whatsappPhno: '15550001001', message: 'PostToConnection: 500' },
      { type: 'message.updated', accountId: 'acc_live', whatsappPhno: '15550001001', message: 'PostToConnection: 500' },
      { type: 'conversation.updated', accountId: 'acc_live', whatsappPhno: '15550001001', message: 'PostToConnection: 500' },
    ]);
  });

  it('a failing read back and a reporter that throws change nothing either', async () => {
    const { live, published } = recordingLive();
    const broken: LiveMessageLookup = {
      byWamid: () => Promise.reject(new Error('DynamoDB timeout')),
      at: () => Promise.reject(new Error('DynamoDB timeout')),
    };
    const wrapped = withLiveUpdates(fakeInbox().inbox, live, {
      messages: broken,
      onFailure: () => {
        throw new Error('the logger is broken too');
      },
    });
    expect(await wrapped.recordStatus(status())).toBe('applied');
    expect(published).toEqual([]);
  });

  it('a write that fails publishes nothing and its error reaches the caller', async () => {
    const { live, published } = recordingLive();
    const wrapped = withLiveUpdates(fakeInbox({ failWrites: true }).inbox, live, { messages: lookup() });
    await expect(wrapped.recordInbound(inbound())).rejects.toThrow('recordInbound failed in the table');
    await expect(wrapped.assignTeam(REF, 'team_support')).rejects.toThrow('assignTeam failed in the table');
    expect(published).toEqual([]);
  });
});
