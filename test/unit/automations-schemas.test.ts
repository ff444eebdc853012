/**
 * The automation bodies' own rules (schemas/automations.ts), beyond field
 * types: what Meta would refuse when the message goes out, and bodies the
 * engine could not act on. Every refusal names its field.
 */
import { describe, expect, it } from 'vitest';
import { AUTOMATION_BODIES, AUTOMATION_VIEWS, chatbotBody, defaultActionBody, keywordBody } from '../../schemas/automations.js';

const paths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (result.success ? [] : result.error!.issues.map((i) => i.path.join('.')));
const step = (titles: string[], id = 'start') => ({ id, text: 'Choose', options: titles.map((title) => ({ title, next: 'end' })) });
const menu = (...steps: unknown[]) => ({ name: 'Menu', steps: [...steps, { id: 'end', text: 'Bye' }] });

describe('chatbot bodies', () => {
  it('sends up to 3 options as reply buttons (titles ≤ 20) and 4 to 10 as a list (titles ≤ 24)', () => {
    expect(paths(chatbotBody.safeParse(menu(step(['x'.repeat(20), 'y'.repeat(20), 'z'.repeat(20)]))))).toEqual([]);
    expect(paths(chatbotBody.safeParse(menu(step(['x'.repeat(21)]))))).toEqual(['steps.0.options.0.title']);
    expect(paths(chatbotBody.safeParse(menu(step(['a'.repeat(24), 'b', 'c', 'd']))))).toEqual([]);
    expect(paths(chatbotBody.safeParse(menu(step(['a'.repeat(25), 'b', 'c', 'd']))))).toEqual(['steps.0.options.0.title']);
    expect(paths(chatbotBody.safeParse(menu(step(Array.from({ length: 10 }, (_, i) => `o${i}`)))))).toEqual([]);
    expect(paths(chatbotBody.safeParse(menu(step(Array.from({ length: 11 }, (_, i) => `o${i}`)))))).toEqual(['steps.0.options']);
  });

  it('refuses two options of one step that read the same (case, accents, punctuation aside), not across steps', () => {
    expect(paths(chatbotBody.safeParse(menu(step(['Preço', 'preco!']))))).toEqual(['steps.0.options.1.title']);
    expect(paths(chatbotBody.safeParse(menu(step(['Sim'], 'a'), step(['Sim'], 'b'))))).toEqual([]);
    // Titles with nothing to read are compared as written.
    expect(paths(chatbotBody.safeParse(menu(step(['?', '!']))))).toEqual([]);
  });

  it('refuses a next that names no step and a step id used twice', () => {
    expect(paths(chatbotBody.safeParse({ name: 'M', steps: [{ id: 'a', text: 'A', options: [{ title: 'Go', next: 'b' }] }] }))).toEqual(['steps.0.options.0.next']);
    expect(paths(chatbotBody.safeParse({ name: 'M', steps: [{ id: 'a', text: 'A' }, { id: 'a', text: 'B' }] }))).toEqual(['steps.1.id']);
  });

  it('fills the defaults', () => {
    expect(chatbotBody.parse(menu())).toMatchObject({ exitWords: [], maxRetries: 2, scope: {} });
    expect(keywordBody.parse({ keywords: ['a'], action: { type: 'reply', text: 'b' } })).toMatchObject({ match: 'exact', priority: 0, enabled: true, scope: {} });
  });
});

describe('default action bodies', () => {
  const hours = (from: string, to: string) => ({ days: { mon: [{ from, to }] } });

  it('takes exactly one of text and replyMaterialId', () => {
    expect(paths(defaultActionBody.safeParse({ event: 'welcome' }))).toEqual(['text']);
    expect(paths(defaultActionBody.safeParse({ event: 'welcome', text: 'Hi', replyMaterialId: 'rm_abcdef12' }))).toEqual(['text']);
  });

  it('needs working hours for an out-of-office whose intervals end after they start', () => {
    expect(paths(defaultActionBody.safeParse({ event: 'outOfOffice', text: 'Closed' }))).toEqual(['workingHours']);
    expect(paths(defaultActionBody.safeParse({ event: 'outOfOffice', text: 'Closed', workingHours: hours('09:00', '18:00') }))).toEqual([]);
    expect(paths(defaultActionBody.safeParse({ event: 'outOfOffice', text: 'Closed', workingHours: hours('18:00', '09:00') }))).toEqual(['workingHours.days.mon.0.to']);
    expect(paths(defaultActionBody.safeParse({ event: 'outOfOffice', text: 'Closed', workingHours: hours('09:00', '09:00') }))).toEqual(['workingHours.days.mon.0.to']);
    expect(paths(defaultActionBody.safeParse({ event: 'outOfOffice', text: 'Closed', workingHours: { timeZone: 'Mars/Base', ...hours('09:00', '18:00') } }))).toEqual([
      'workingHours.timeZone',
    ]);
  });
});

describe('views', () => {
  it('answer every body field of its kind around id, kind and the times', () => {
    for (const [kind, view] of Object.entries(AUTOMATION_VIEWS)) {
      const fields = Object.keys(AUTOMATION_BODIES[kind as keyof typeof AUTOMATION_BODIES].shape);
      expect(Object.keys(view.shape)).toEqual(['id', 'kind', 'createdAt', 'updatedAt', ...fields]);
    }
  });
});
