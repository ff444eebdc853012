/**
 * Per-number access in tests: an agent needs a seat in a team to see any
 * conversation (functions/core/number-access.ts). `agentSeat` makes one
 * through the API, as an owner would: a user, a team, the membership, and the
 * team's number limit when numbers are given (`null`: every number).
 */
import { expect } from 'vitest';
import type { ApiRequest, Caller } from './api-events.js';

type Send = (request: ApiRequest) => Promise<{ status: number; body: any }>;

let counter = 0;

export interface AgentSeat {
  /** The agent's token claims, with `custom:userId`. */
  as: Caller & { role: 'agent'; accountId: string; userId: string };
  userId: string;
  teamId: string;
}

/** An agent seat of the account in a new team covering `whatsappPhnos` (`null`: every number). */
export async function agentSeat(send: Send, accountId: string, whatsappPhnos: readonly string[] | null = null): Promise<AgentSeat> {
  const owner = { role: 'owner' as const, accountId };
  const n = ++counter;
  const user = await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: `agent-${n}-${Date.now()}@example.com`, role: 'agent' } });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  const team = await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: `Team ${n}` } });
  expect(team.status, JSON.stringify(team.body)).toBe(201);
  const { userId } = user.body;
  const { teamId } = team.body;
  const members = await send({ method: 'PUT', path: `/v1/teams/${teamId}/members`, as: owner, body: { userIds: [userId] } });
  expect(members.status, JSON.stringify(members.body)).toBe(200);
  if (whatsappPhnos !== null) {
    const numbers = await send({ method: 'PUT', path: `/v1/teams/${teamId}/numbers`, as: owner, body: { whatsapp_phnos: whatsappPhnos } });
    expect(numbers.status, JSON.stringify(numbers.body)).toBe(200);
  }
  return { as: { role: 'agent', accountId, userId }, userId, teamId };
}

const seats = new Map<string, Promise<AgentSeat>>();

/**
 * The account's test agent: one seat in one team covering every number, made
 * on first use and reused after (`as: await agentFor(send, accountId)`).
 */
export async function agentFor(send: Send, accountId: string): Promise<AgentSeat['as']> {
  let seat = seats.get(accountId);
  if (!seat) {
    seat = agentSeat(send, accountId);
    seats.set(accountId, seat);
  }
  return (await seat).as;
}
