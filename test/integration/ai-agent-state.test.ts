/**
 * The AI agent's conversation state on DynamoDB Local (`DynamoAiAgentState`),
 * with real races: a unit is taken once per wamid however many runs take it,
 * never more than the limit, and given back once (usage shows it unused);
 * messages racing into a turn all join it, once each; one claim of a turn
 * wins; a superseded or lapsed turn is not answered.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAiAgentState } from '../../functions/adapters/dynamo/ai-agent-state.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import type { AddToTurn, AiUnit } from '../../functions/core/ai-ports.js';
import { getAccountView } from '../../functions/core/accounts.js';
import type { ConversationRef } from '../../functions/core/inbox-ports.js';
import type { Clock } from '../../functions/core/ports.js';
import { adaptersFor, newAccount, race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('ai-agent-state');
});

/** Real time, movable forward. */
class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

async function world(aiResponses = 100) {
  const clock = new TestClock();
  const adapters = adaptersFor(table, clock);
  const account = await newAccount(adapters, { aiResponses });
  const period = account.billingPeriod.start.slice(0, 10);
  const state = new DynamoAiAgentState(table.doc, table.tableName, clock);
  const ref = (): ConversationRef => ({ accountId: account.accountId, whatsappPhno: '15550001001', contactKey: `55119${randomUUID().slice(0, 8)}` });
  const unit = (conversation: ConversationRef, wamid: string): AiUnit => ({
    ref: conversation,
    aiAgentId: 'ai_1',
    wamid,
    period,
    limit: aiResponses,
    at: clock.now().toISOString(),
  });
  const add = (conversation: ConversationRef, wamid: string, text = `text of ${wamid}`): AddToTurn => {
    const at = clock.now();
    return { ref: conversation, aiAgentId: 'ai_1', wamid, text, at: at.toISOString(), expiresAt: new Date(at.getTime() + DAY_MS).toISOString() };
  };
  const used = async () => (await getAccountView(adapters, account.accountId)).usage.aiResponses;
  const counter = async () => {
    const { Item } = await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: entities.periodQuota.key({ accountId: account.accountId, resource: 'aiResponses', period }),
        ConsistentRead: true,
      }),
    );
    return Item ? entities.periodQuota.parse(Item) : undefined;
  };
  const ledgerEntry = async (idempotencyKey: string) => {
    const { Item } = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: entities.ledgerEntry.key({ accountId: account.accountId, idempotencyKey }), ConsistentRead: true }),
    );
    return Item ? entities.ledgerEntry.parse(Item) : undefined;
  };
  return { clock, state, ref, unit, add, used, counter, ledgerEntry };
}

describe('aiResponses units', () => {
  it('20 concurrent takes of one wamid take exactly one unit and replay the rest', async () => {
    const w = await world();
    const conversation = w.ref();
    const { ok, errors } = await race(Array.from({ length: 20 }, () => () => w.state.takeUnit(w.unit(conversation, 'wamid.SAME'))));
    expect(errors).toEqual([]);
    expect(ok.filter((r) => r === 'taken')).toHaveLength(1);
    expect(ok.filter((r) => r === 'replayed')).toHaveLength(19);
    expect(await w.used()).toBe(1);
  });

  it('with a limit L, concurrent distinct wamids take exactly L units and the rest find the quota spent', async () => {
    const L = 5;
    const w = await world(L);
    const { ok, errors } = await race(Array.from({ length: 12 }, (_, i) => () => w.state.takeUnit(w.unit(w.ref(), `wamid.D${i}`))));
    expect(errors).toEqual([]);
    expect(ok.filter((r) => r === 'taken')).toHaveLength(L);
    expect(ok.filter((r) => r === 'quota-exceeded')).toHaveLength(12 - L);
    expect(await w.counter()).toMatchObject({ limit: L, used: L, remaining: 0 });
    expect(await w.used()).toBe(L);
  });

  it('a release gives the unit back once (usage shows it unused), even when released concurrently', async () => {
    const w = await world(3);
    const conversation = w.ref();
    expect(await w.state.takeUnit(w.unit(conversation, 'wamid.R1'))).toBe('taken');
    expect(await w.state.takeUnit(w.unit(conversation, 'wamid.R2'))).toBe('taken');
    expect(await w.used()).toBe(2);

    await w.state.releaseUnit(w.unit(conversation, 'wamid.R1'));
    await w.state.releaseUnit(w.unit(conversation, 'wamid.R1'));
    expect(await w.used()).toBe(1);
    expect(await w.counter()).toMatchObject({ used: 1, remaining: 2 });
    expect(await w.ledgerEntry('ai:15550001001:wamid.R1')).toMatchObject({ resource: 'aiResponses', amount: -1, period: expect.any(String), refId: 'ai_1' });
    expect(await w.ledgerEntry('ai:15550001001:wamid.R1:release')).toMatchObject({ resource: 'aiResponses', amount: 1, reason: 'ai:release' });

    const { errors } = await race(Array.from({ length: 10 }, () => () => w.state.releaseUnit(w.unit(conversation, 'wamid.R2'))));
    expect(errors).toEqual([]);
    expect(await w.counter()).toMatchObject({ used: 0, remaining: 3 });
    // The units given back can be taken again (by other wamids); a released wamid replays.
    expect(await w.state.takeUnit(w.unit(conversation, 'wamid.R1'))).toBe('replayed');
  });

  it('one wamid on two numbers of the account is two units, each given back on its own', async () => {
    // Keyed by the wamid alone, the second number's unit hit "Idempotency-Key already used for a different request"
    // (the entry's number differs), and the turn failed until it was dead-lettered (the storm test's chatbot twin).
    const w = await world(5);
    const onMain = w.ref();
    const onVendas = { ...onMain, whatsappPhno: '15550001002' };
    expect(await w.state.takeUnit(w.unit(onMain, 'wamid.BOTH'))).toBe('taken');
    expect(await w.state.takeUnit(w.unit(onVendas, 'wamid.BOTH'))).toBe('taken');
    expect(await w.state.takeUnit(w.unit(onVendas, 'wamid.BOTH'))).toBe('replayed');
    expect(await w.used()).toBe(2);
    await w.state.releaseUnit(w.unit(onVendas, 'wamid.BOTH'));
    expect(await w.used()).toBe(1);
    expect(await w.ledgerEntry('ai:15550001001:wamid.BOTH')).toMatchObject({ amount: -1, whatsapp_phno: '15550001001' });
    expect(await w.ledgerEntry('ai:15550001002:wamid.BOTH:release')).toMatchObject({ amount: 1, whatsapp_phno: '15550001002' });
  });

  it('releasing a unit never taken gives nothing', async () => {
    const w = await world(2);
    const conversation = w.ref();
    expect(await w.state.takeUnit(w.unit(conversation, 'wamid.T1'))).toBe('taken');
    await w.state.releaseUnit(w.unit(conversation, 'wamid.NEVER'));
    expect(await w.counter()).toMatchObject({ used: 1, remaining: 1 });
    expect(await w.used()).toBe(1);
  });
});

describe('turns', () => {
  it('10 wamids added concurrently all join one turn; adding one again changes nothing', async () => {
    const w = await world();
    const conversation = w.ref();
    const wamids = Array.from({ length: 10 }, (_, i) => `wamid.M${i}`);
    const { ok, errors } = await race(wamids.map((wamid) => () => w.state.addToTurn(w.add(conversation, wamid))));
    expect(errors).toEqual([]);
    expect(ok).toHaveLength(10);

    const after = await w.state.get(conversation);
    expect(after).toMatchObject({ aiAgentId: 'ai_1', status: 'active' });
    expect([...after!.turn!.wamids].sort()).toEqual([...wamids].sort());
    expect(after!.turn!.texts).toEqual(after!.turn!.wamids.map((wamid) => `text of ${wamid}`));
    expect(after!.turn!.status).toBe('open');
    expect(wamids).toContain(after!.turn!.lastWamid);
    expect(after!.startedBy).toBe(after!.turn!.id);

    const again = await w.state.addToTurn(w.add(conversation, 'wamid.M3', 'another text'));
    expect(again).toEqual(after);
    expect(await w.state.get(conversation)).toEqual(after);
  });

  it('a message after the turn was claimed starts a new turn; the old one is then superseded', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.A1'));
    expect(await w.state.claimTurn(conversation, 'wamid.A1', w.clock.now(), 30)).toBe('claimed');
    const next = await w.state.addToTurn(w.add(conversation, 'wamid.A2'));
    expect(next.turn).toMatchObject({ id: 'wamid.A2', wamids: ['wamid.A2'], lastWamid: 'wamid.A2', status: 'open' });
    expect(next.startedBy).toBe('wamid.A1');
    await w.state.completeTurn(conversation, 'wamid.A1', { outcome: 'answered', answerWamid: 'wamid.OUT1' }, w.clock.now().toISOString());
    expect((await w.state.get(conversation))!.turn).toMatchObject({ id: 'wamid.A2', status: 'open' });
  });

  it('concurrent claims of a turn: exactly one is claimed; a non-last wamid is superseded', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.C1'));
    await w.state.addToTurn(w.add(conversation, 'wamid.C2'));
    expect(await w.state.claimTurn(conversation, 'wamid.C1', w.clock.now(), 30)).toBe('superseded');

    const { ok, errors } = await race(Array.from({ length: 10 }, () => () => w.state.claimTurn(conversation, 'wamid.C2', w.clock.now(), 30)));
    expect(errors).toEqual([]);
    expect(ok.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(ok.filter((r) => r === 'in-progress')).toHaveLength(9);
    expect((await w.state.get(conversation))!.turn).toMatchObject({ status: 'answering' });
  });

  it('a lapsed lease is taken over; an answered turn is answered; no turn is missing', async () => {
    const w = await world();
    const conversation = w.ref();
    expect(await w.state.claimTurn(conversation, 'wamid.X', w.clock.now(), 30)).toBe('missing');
    await w.state.addToTurn(w.add(conversation, 'wamid.L1'));
    expect(await w.state.claimTurn(conversation, 'wamid.L1', w.clock.now(), 30)).toBe('claimed');
    expect(await w.state.claimTurn(conversation, 'wamid.L1', new Date(w.clock.now().getTime() + 10_000), 30)).toBe('in-progress');
    expect(await w.state.claimTurn(conversation, 'wamid.L1', new Date(w.clock.now().getTime() + 31_000), 30)).toBe('claimed');

    await w.state.completeTurn(conversation, 'wamid.L1', { outcome: 'answered', answerWamid: 'wamid.OUT' }, w.clock.now().toISOString());
    expect((await w.state.get(conversation))!.turn).toMatchObject({ status: 'answered', outcome: 'answered', answerWamid: 'wamid.OUT' });
    expect((await w.state.get(conversation))!.turn!.leaseUntilMs).toBeUndefined();
    expect(await w.state.claimTurn(conversation, 'wamid.L1', w.clock.now(), 30)).toBe('answered');
  });

  it('completing with a non-last wamid changes nothing', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.P1'));
    await w.state.addToTurn(w.add(conversation, 'wamid.P2'));
    await w.state.completeTurn(conversation, 'wamid.P1', { outcome: 'answered' }, w.clock.now().toISOString());
    expect((await w.state.get(conversation))!.turn).toMatchObject({ status: 'open', wamids: ['wamid.P1', 'wamid.P2'] });
  });
});

describe('the agent on the conversation', () => {
  it('a lapsed item reads as absent (TTL lags), and the next message starts the agent afresh', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.OLD'));
    expect(await w.state.get(conversation)).toBeDefined();

    w.clock.offsetMs = DAY_MS + 60_000;
    expect(await w.state.get(conversation)).toBeUndefined();
    expect(await w.state.claimTurn(conversation, 'wamid.OLD', w.clock.now(), 30)).toBe('missing');

    const fresh = await w.state.addToTurn(w.add(conversation, 'wamid.NEW'));
    expect(fresh).toMatchObject({ status: 'active', startedBy: 'wamid.NEW', turn: { id: 'wamid.NEW', wamids: ['wamid.NEW'] } });
    expect(await w.state.get(conversation)).toEqual(fresh);
  });

  it('handed off: the first reason stands, claims find nothing to answer, messages do not join a turn', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.H1'));
    await w.state.handOff(conversation, 'not-grounded', w.clock.now().toISOString());
    await w.state.handOff(conversation, 'asked-for-human', w.clock.now().toISOString());
    const handedOff = await w.state.get(conversation);
    expect(handedOff).toMatchObject({ status: 'handedOff', handoffReason: 'not-grounded' });
    expect(await w.state.claimTurn(conversation, 'wamid.H1', w.clock.now(), 30)).toBe('missing');

    w.clock.offsetMs = 60_000;
    const after = await w.state.addToTurn(w.add(conversation, 'wamid.H2'));
    expect(after.status).toBe('handedOff');
    expect(after.turn!.wamids).toEqual(['wamid.H1']);
    expect(after.lastMessageAt > handedOff!.lastMessageAt).toBe(true);
  });

  it('end removes the agent from the conversation', async () => {
    const w = await world();
    const conversation = w.ref();
    await w.state.addToTurn(w.add(conversation, 'wamid.E1'));
    await w.state.end(conversation);
    expect(await w.state.get(conversation)).toBeUndefined();
  });
});
