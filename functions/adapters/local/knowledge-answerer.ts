/**
 * The AI answerer of the local runtime and the tests: a deterministic
 * stand-in for the model, NOT a model. It answers with one of the agent's
 * knowledge passages, word for word, when the question's words point at it
 * clearly enough, and hands off (`not-grounded`) otherwise: the same
 * contract as Bedrock's answerer (`AiAnswerer`), with no network, no cost
 * and the same answer every time.
 *
 * Matching:
 * 1. Words: the engine's `normalise` (case, Latin accents, punctuation),
 *    split on spaces; only words with a letter or digit count; common
 *    English and Portuguese stop words are dropped; light stemming
 *    (`informações` = `informação`, `policies` = `policy`, `hours` = `hour`,
 *    `opening` = `open`).
 * 2. Each question word weighs `1 + ln((N + 1) / (df + 1))`, `df` being how
 *    many of the agent's N passages hold it: a word every passage has says
 *    little, a word no passage has (the question is about something else)
 *    weighs most.
 * 3. A passage's score is the weight of the question words it holds over the
 *    weight of all of them; the best passage wins (ties: more words in
 *    common, then the earlier passage). Below `MIN_COVERAGE` (34 %), or no
 *    word in common, it is a handoff.
 */
import type { AiAnswerer, KnowledgeAnswer, KnowledgeQuestion } from '../../core/ai-ports.js';
import { normalise } from '../../core/text-normalise.js';

/** The share of the question's (weighted) content words a passage must hold to be the answer. */
export const MIN_COVERAGE = 0.34;

const STOP_WORDS = new Set(
  [
    // English
    'a an the and or but if then so of to in on at by for with from as into about over than this that these those it its',
    'is are was were be been being am do does did done have has had having can could will would shall should may might must',
    'i me my mine we us our you your yours he him his she her they them their what which who whom whose when where why how',
    'there here not no yes please hi hello hey thanks thank ok okay just also any some all more most very much many',
    'tell know want need like get got make let',
    // Portuguese (accents folded, as `normalise` leaves them)
    'o os as um uma uns umas de do da dos das em no na nos nas por pelo pela pelos pelas para pra com sem sob sobre',
    'e ou mas se entao que qual quais quem quando onde como porque ao aos ate',
    'eu me meu minha meus minhas nos nosso nossa voce voces vc seu sua seus suas ele ela eles elas lhe isso isto esse essa este esta aquilo',
    'ser sou e era foi sao estar estou esta estao tem ter tenho tinha ha vai vou pode posso poderia queria quero gostaria saber',
    'nao sim oi ola bom dia boa tarde noite obrigado obrigada favor tudo bem ai la ja muito mais menos tambem so',
  ]
    .join(' ')
    .split(' '),
);

export class LocalKnowledgeAnswerer implements AiAnswerer {
  readonly model = 'local-knowledge-match';

  async answer(question: KnowledgeQuestion): Promise<KnowledgeAnswer> {
    const asked = [...new Set(contentWords(question.question))];
    if (asked.length === 0) return { kind: 'handoff', reason: 'not-grounded', detail: 'no content words' };
    const passages = question.agent.knowledge.map((passage) => new Set(contentWords(passage)));
    const weight = (word: string) => 1 + Math.log((passages.length + 1) / (passages.filter((words) => words.has(word)).length + 1));
    const total = asked.reduce((sum, word) => sum + weight(word), 0);

    let best: { index: number; coverage: number; common: number } | undefined;
    passages.forEach((words, index) => {
      const held = asked.filter((word) => words.has(word));
      const coverage = held.reduce((sum, word) => sum + weight(word), 0) / total;
      if (!best || coverage > best.coverage + 1e-9 || (Math.abs(coverage - best.coverage) <= 1e-9 && held.length > best.common)) {
        best = { index, coverage, common: held.length };
      }
    });
    if (!best || best.common === 0 || best.coverage < MIN_COVERAGE) {
      return { kind: 'handoff', reason: 'not-grounded', detail: `best coverage ${Math.round((best?.coverage ?? 0) * 100)}%` };
    }
    return { kind: 'answer', text: question.agent.knowledge[best.index]!.trim(), sources: [best.index] };
  }
}

/** The words that carry meaning, normalised and stemmed (see the module comment). */
export function contentWords(text: string): string[] {
  return normalise(text)
    .split(' ')
    .filter((word) => /[\p{L}\p{N}]/u.test(word) && !STOP_WORDS.has(word))
    .map(stem)
    .filter((word) => !STOP_WORDS.has(word));
}

/** Plural and a few common endings, so a question's word meets the passage's. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('oes')) return `${word.slice(0, -3)}ao`; // informacoes → informacao
  if (word.length > 4 && word.endsWith('aes')) return `${word.slice(0, -3)}ao`; // paes → pao
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`; // policies → policy
  if (word.length > 4 && word.endsWith('is') && /[aeo]is$/.test(word)) return `${word.slice(0, -2)}l`; // locais → local, papeis → papel
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  if (word.length > 6 && word.endsWith('ing')) return word.slice(0, -3); // opening → open
  if (word.length > 5 && word.endsWith('ed') && !word.endsWith('eed')) return word.slice(0, -2); // returned → return
  return word;
}
