/**
 * The Bedrock answerer against a mocked Converse API (aws-sdk-client-mock):
 * what it sends (the agent's instructions, the grounding rule and the
 * numbered passages as the system prompt; the history as alternating
 * messages starting with the user and ending with the question;
 * temperature 0) and how it reads what comes back (cited answers, HANDOFF,
 * guardrails, throttling versus refusals).
 */
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BedrockAnswerer } from '../../functions/adapters/bedrock/bedrock-answerer.js';
import { AiProviderBusy, type KnowledgeQuestion } from '../../functions/core/ai-ports.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());

const answerer = () => new BedrockAnswerer({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), modelId: MODEL, maxTokens: 300 });

const question: KnowledgeQuestion = {
  agent: {
    id: 'ai_1',
    name: 'Store helper',
    instructions: 'You are the friendly assistant of Loja Azul. Answer briefly.',
    knowledge: ['We open 9:00 to 18:00, Monday to Friday.', 'Shipping is free above R$ 200.', 'Returns within 30 days.'],
  },
  history: [
    { from: 'business', text: 'Welcome to Loja Azul!' },
    { from: 'contact', text: 'Hi' },
    { from: 'contact', text: 'I have a question' },
    { from: 'business', text: 'Sure, ask away.' },
    { from: 'business', text: 'We are here to help.' },
    { from: 'contact', text: 'About delivery' },
  ],
  question: 'Is shipping free?\nAnd when do you open?',
};

function replies(text: string, stopReason: ConverseCommandOutput['stopReason'] = 'end_turn') {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason,
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    metrics: { latencyMs: 1 },
    $metadata: {},
  });
}

const meta = { $metadata: {}, message: 'no' };

describe('BedrockAnswerer', () => {
  it('names the model it asks', () => {
    expect(answerer().model).toBe(`bedrock:${MODEL}`);
  });

  it('sends the instructions, the grounding rule and the numbered passages, the history alternating, the question last, temperature 0', async () => {
    replies('Yes, above R$ 200 [2].');
    await answerer().answer(question);
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.modelId).toBe(MODEL);
    expect(input.inferenceConfig).toEqual({ maxTokens: 300, temperature: 0 });

    const system = (input.system ?? []).map((block) => ('text' in block ? block.text : '')).join('\n');
    expect(system).toContain(question.agent.instructions);
    expect(system).toContain('[1] We open 9:00 to 18:00, Monday to Friday.');
    expect(system).toContain('[2] Shipping is free above R$ 200.');
    expect(system).toContain('[3] Returns within 30 days.');
    expect(system).toMatch(/only .*knowledge passages/i);
    expect(system).toContain('HANDOFF');

    const messages = (input.messages ?? []).map((m) => ({ role: m.role, text: (m.content ?? []).map((c) => ('text' in c ? c.text : '')).join('') }));
    // The business's greeting before the contact spoke is dropped; same-side turns merged; the question joins the contact's last turn.
    expect(messages).toEqual([
      { role: 'user', text: 'Hi\nI have a question' },
      { role: 'assistant', text: 'Sure, ask away.\nWe are here to help.' },
      { role: 'user', text: 'About delivery\nIs shipping free?\nAnd when do you open?' },
    ]);
    for (let i = 1; i < messages.length; i++) expect(messages[i]!.role).not.toBe(messages[i - 1]!.role);
  });

  it('sends the question alone when there is no history', async () => {
    replies('We open at 9:00 [1].');
    await answerer().answer({ ...question, history: [] });
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.messages).toEqual([{ role: 'user', content: [{ text: question.question }] }]);
  });

  it('answers with the citations stripped and the cited passages as 0-based sources', async () => {
    replies('Yes, shipping is free above R$ 200 [2]. We open at 9:00 [1][2], Monday to Friday [1, 2]. See also [7].');
    expect(await answerer().answer(question)).toEqual({
      kind: 'answer',
      text: 'Yes, shipping is free above R$ 200. We open at 9:00, Monday to Friday. See also.',
      sources: [0, 1],
    });
  });

  it('hands off (not grounded) on HANDOFF, or an answer without a valid citation', async () => {
    replies('HANDOFF');
    expect(await answerer().answer(question)).toEqual({ kind: 'handoff', reason: 'not-grounded' });
    bedrock.reset();
    replies('I am not sure. HANDOFF');
    expect(await answerer().answer(question)).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
    bedrock.reset();
    replies('Shipping is always free.');
    expect(await answerer().answer(question)).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
    bedrock.reset();
    replies('Shipping is free [9].');
    expect(await answerer().answer(question)).toMatchObject({ kind: 'handoff', reason: 'not-grounded' });
  });

  it('hands off (provider refused) when a guardrail, a content filter or the token bound stopped the answer', async () => {
    replies('Sorry, the model cannot answer [1].', 'guardrail_intervened');
    expect(await answerer().answer(question)).toEqual({ kind: 'handoff', reason: 'provider-refused', detail: 'guardrail_intervened' });
    bedrock.reset();
    replies('[1]', 'content_filtered');
    expect(await answerer().answer(question)).toEqual({ kind: 'handoff', reason: 'provider-refused', detail: 'content_filtered' });
    bedrock.reset();
    // A reply cut short is not sent.
    replies('Yes, shipping is free above R$ 200 [2] and', 'max_tokens');
    expect(await answerer().answer(question)).toEqual({ kind: 'handoff', reason: 'provider-refused', detail: 'max_tokens' });
  });

  it.each([
    ['throttling', new ThrottlingException(meta)],
    ['unavailable', new ServiceUnavailableException(meta)],
    ['model not ready', new ModelNotReadyException(meta)],
    ['internal error', new InternalServerException(meta)],
    ['model timeout', new ModelTimeoutException(meta)],
    ['a network failure', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('throws AiProviderBusy on %s (the turn is tried again)', async (_, error) => {
    bedrock.on(ConverseCommand).rejects(error);
    await expect(answerer().answer(question)).rejects.toBeInstanceOf(AiProviderBusy);
  });

  it.each([
    ['ValidationException', new ValidationException(meta)],
    ['AccessDeniedException', new AccessDeniedException(meta)],
    ['ResourceNotFoundException', new ResourceNotFoundException(meta)],
    ['ModelErrorException', new ModelErrorException(meta)],
    ['SomethingNew', Object.assign(new Error('?'), { name: 'SomethingNew' })],
  ])('hands off (provider refused) on %s', async (name, error) => {
    bedrock.on(ConverseCommand).rejects(error);
    expect(await answerer().answer(question)).toEqual({ kind: 'handoff', reason: 'provider-refused', detail: name });
  });
});
