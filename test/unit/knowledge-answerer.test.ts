/**
 * The local knowledge answerer (the stand-in for the model in the local
 * runtime and the tests): it answers with the passage a question points at,
 * in English or Portuguese, whatever the case, accents, punctuation and
 * plurals, and hands off when no passage holds enough of the question.
 */
import { describe, expect, it } from 'vitest';
import { LocalKnowledgeAnswerer, contentWords } from '../../functions/adapters/local/knowledge-answerer.js';
import type { KnowledgeQuestion } from '../../functions/core/ai-ports.js';

const KNOWLEDGE = [
  'Our store opens Monday to Friday from 9:00 to 18:00 and on Saturdays from 9:00 to 13:00.',
  'Shipping is free for orders above R$ 200; otherwise delivery costs R$ 15 and takes 3 to 5 business days.',
  'Returns are accepted within 30 days of delivery, with the receipt, for a full refund.',
  'Nosso horário de atendimento é de segunda a sexta, das 9h às 18h.',
  'Aceitamos pagamentos por Pix, cartão de crédito e boleto bancário.',
];

const answerer = new LocalKnowledgeAnswerer();

function ask(question: string, knowledge: readonly string[] = KNOWLEDGE): KnowledgeQuestion {
  return { agent: { id: 'ai_1', name: 'Helper', instructions: 'Be kind.', knowledge }, history: [], question };
}

describe('LocalKnowledgeAnswerer', () => {
  it('names itself as the local stand-in', () => {
    expect(answerer.model).toBe('local-knowledge-match');
  });

  it('answers with the passage the question points at, and its index', async () => {
    expect(await answerer.answer(ask('How much does shipping cost?'))).toEqual({ kind: 'answer', text: KNOWLEDGE[1], sources: [1] });
    expect(await answerer.answer(ask('Can I return an order for a refund?'))).toEqual({ kind: 'answer', text: KNOWLEDGE[2], sources: [2] });
  });

  it('reads through case, accents, punctuation and plurals (Portuguese too)', async () => {
    expect(await answerer.answer(ask('QUAL O HORARIO DE ATENDIMENTO???'))).toMatchObject({ kind: 'answer', sources: [3] });
    expect(await answerer.answer(ask('vocês aceitam pagamento com cartao?'))).toMatchObject({ kind: 'answer', sources: [4] });
    expect(await answerer.answer(ask('what are your opening hours on saturday'))).toMatchObject({ kind: 'answer', sources: [0] });
  });

  it('hands off when nothing is in common, or too little of the question is covered', async () => {
    expect(await answerer.answer(ask('Do you sell bicycles?'))).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
    // One word of four in common ("delivery"): not grounded enough.
    expect(await answerer.answer(ask('delivery drone insurance claim'))).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
  });

  it('hands off a question made only of stop words or symbols', async () => {
    expect(await answerer.answer(ask('Oi, tudo bem?'))).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
    expect(await answerer.answer(ask('👍 ?!'))).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
  });

  it('weighs words by how rare they are among the passages', async () => {
    const knowledge = ['The price of the basic plan is 10 dollars a month.', 'The price of the premium plan is 30 dollars a month.'];
    // "price", "plan", "dollars", "month" are in both; "premium" decides.
    expect(await answerer.answer(ask('premium plan price?', knowledge))).toMatchObject({ kind: 'answer', sources: [1] });
    expect(await answerer.answer(ask('basic plan price?', knowledge))).toMatchObject({ kind: 'answer', sources: [0] });
  });

  it('is deterministic', async () => {
    const first = await answerer.answer(ask('free shipping orders'));
    for (let i = 0; i < 5; i++) expect(await answerer.answer(ask('free shipping orders'))).toEqual(first);
  });

  it('normalises to stemmed content words', () => {
    expect(contentWords('Informações sobre os HORÁRIOS, policies and hours!')).toEqual(['informacao', 'horario', 'policy', 'hour']);
  });
});
