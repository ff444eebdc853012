/**
 * The automation consumer's pure parts and its composition root: what it
 * reads of a message, how a chatbot step is sent, its record parser, and
 * the settings it needs at cold start.
 */
import { describe, expect, it } from 'vitest';
import { awsDeps } from '../../functions/automation/deps.js';
import { parseAutomationRecord } from '../../functions/automation/events.js';
import { MalformedAutomationRecord, judgedMessage, stepMessage } from '../../functions/core/automation-consumer.js';
import type { StoredAutomation } from '../../functions/core/automation-ports.js';

const AT = '2030-01-07T10:00:00.000Z';

describe('judgedMessage', () => {
  const base = { id: 'wamid.1', from: '5511987650001', timestamp: '1893952800' };

  it('reads the text, a button or list reply (title and id), a template button and a caption', () => {
    expect(judgedMessage({ ...base, type: 'text', text: { body: 'Oi' } }, AT)).toEqual({ wamid: 'wamid.1', type: 'text', text: 'Oi', sentAt: new Date(AT) });
    expect(judgedMessage({ ...base, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'chat_1:start:0', title: 'Sales' } } }, AT)).toMatchObject({
      text: 'Sales',
      replyId: 'chat_1:start:0',
    });
    expect(judgedMessage({ ...base, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'chat_1:start:4', title: 'Five' } } }, AT)).toMatchObject({
      text: 'Five',
      replyId: 'chat_1:start:4',
    });
    expect(judgedMessage({ ...base, type: 'button', button: { text: 'Yes', payload: 'YES' } }, AT)).toMatchObject({ text: 'Yes', replyId: 'YES' });
    expect(judgedMessage({ ...base, type: 'image', image: { id: 'm1', caption: 'price?' } }, AT)).toMatchObject({ text: 'price?' });
    expect(judgedMessage({ ...base, type: 'sticker', sticker: { id: 'm2' } }, AT)).toEqual({ wamid: 'wamid.1', type: 'sticker', sentAt: new Date(AT) });
  });
});

describe('stepMessage', () => {
  const bot = (options: number): StoredAutomation<'chatbots'> => ({
    accountId: 'acc_1',
    kind: 'chatbots',
    id: 'chat_1',
    createdAt: AT,
    updatedAt: AT,
    body: {
      name: 'Menu',
      exitWords: [],
      maxRetries: 2,
      scope: {},
      steps: [{ id: 'start', text: 'Hi {{name|there}}!', options: Array.from({ length: options }, (_, i) => ({ title: `Option ${i + 1}`, next: 'start' })) }],
    },
  });
  const step = (b: StoredAutomation<'chatbots'>) => b.body.steps[0]!;

  it('sends up to 3 options as reply buttons, more as a list, none as text, ids from the engine', () => {
    const three = bot(3);
    expect(stepMessage(three, step(three), { whatsapp_phno: '15550001001', name: 'Ana' })).toEqual({
      type: 'buttons',
      text: 'Hi Ana!',
      buttons: [
        { id: 'chat_1:start:0', title: 'Option 1' },
        { id: 'chat_1:start:1', title: 'Option 2' },
        { id: 'chat_1:start:2', title: 'Option 3' },
      ],
    });
    const four = bot(4);
    expect(stepMessage(four, step(four), { whatsapp_phno: '15550001001' })).toMatchObject({ type: 'list', text: 'Hi there!', buttonText: 'Choose an option', rows: { length: 4 } });
    const none = bot(0);
    expect(stepMessage(none, step(none), { whatsapp_phno: '15550001001' }, 'Please choose.')).toEqual({ type: 'text', text: 'Please choose.\n\nHi there!' });
  });
});

describe('the automation queue record', () => {
  it('ignores other detail types and refuses a malformed one', () => {
    const event = (detailType: string, detail: unknown) => JSON.stringify({ version: '0', id: '1', 'detail-type': detailType, source: 'whatsapp.webhook', time: AT, detail });
    expect(parseAutomationRecord(event('WhatsApp Message Status Updated', {}))).toEqual({ kind: 'ignored', detailType: 'WhatsApp Message Status Updated' });
    expect(() => parseAutomationRecord(event('WhatsApp Message Received', { message: {} }))).toThrow(MalformedAutomationRecord);
    expect(() => parseAutomationRecord('not json')).toThrow(MalformedAutomationRecord);
  });
});

describe('awsDeps', () => {
  const ENV = { TABLE_NAME: 'whatsapp-test', AWS_REGION: 'us-east-1', WHATSAPP_ACCESS_TOKEN: 'token' };
  const without = (name: string) => Object.fromEntries(Object.entries(ENV).filter(([key]) => key !== name));

  it.each(['TABLE_NAME', 'WHATSAPP_ACCESS_TOKEN'])('fails at cold start naming %s when it is not set', (name) => {
    expect(() => awsDeps(without(name))).toThrow(new RegExp(name));
  });

  it('reads the safeguard settings, refusing a bad one by name', () => {
    expect(awsDeps(ENV).settings).toEqual({ maxRepliesPer10Min: 10, lockWaitMs: 5000, leaseSeconds: 60 });
    expect(awsDeps({ ...ENV, AUTOMATION_MAX_REPLIES_PER_10_MIN: '3' }).settings.maxRepliesPer10Min).toBe(3);
    expect(() => awsDeps({ ...ENV, AUTOMATION_MAX_REPLIES_PER_10_MIN: '0' })).toThrow(/AUTOMATION_MAX_REPLIES_PER_10_MIN/);
  });
});
