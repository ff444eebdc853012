import { describe, expect, it } from 'vitest';
import { placeholdersIn, renderReply, renderText, type RenderContext } from '../../functions/core/reply-render.js';
import type { ReplyContent } from '../../schemas/automations.js';

const context = (over: Partial<RenderContext> = {}): RenderContext => ({
  name: 'Ana',
  whatsapp_phno: '15550001002',
  attributes: { plan: 'gold', visits: 3, vip: true, blank: '  ', nothing: null },
  ...over,
});

describe('renderText', () => {
  it('fills name, whatsapp_phno and attributes', () => {
    expect(renderText('Hi {{name}}, you wrote to {{whatsapp_phno}} on the {{attributes.plan}} plan', context())).toBe(
      'Hi Ana, you wrote to 15550001002 on the gold plan',
    );
    expect(renderText('{{ attributes.visits }} visits, vip {{attributes.vip}}', context())).toBe('3 visits, vip true');
  });

  it('says the fallback when the value is missing, blank or null', () => {
    const ctx = context({ name: undefined });
    expect(renderText('Hi {{name|there}}!', ctx)).toBe('Hi there!');
    expect(renderText('Hi {{ name | my friend }}!', ctx)).toBe('Hi my friend!');
    expect(renderText('{{attributes.blank|-}} {{attributes.nothing|none}} {{attributes.absent|?}}', ctx)).toBe('- none ?');
    expect(renderText('Hi {{name|there}}', context())).toBe('Hi Ana');
  });

  it('renders a missing placeholder without fallback as nothing, leaving no double spaces', () => {
    const ctx = context({ name: '   ', attributes: {} });
    expect(renderText('Hi {{name}} there', ctx)).toBe('Hi there');
    expect(renderText('Hi {{name}}, welcome', ctx)).toBe('Hi, welcome');
    expect(renderText('Hi {{name}}!', ctx)).toBe('Hi!');
    expect(renderText('{{name}} welcome', ctx)).toBe('welcome');
    expect(renderText('Hello {{name}}', ctx)).toBe('Hello');
    expect(renderText('a {{name}} {{attributes.x}} b', ctx)).toBe('a b');
    expect(renderText('Hi {{name}}\nline two  keeps  its spaces', ctx)).toBe('Hi\nline two  keeps  its spaces');
  });

  it('leaves other double braces as written', () => {
    expect(renderText('Code {{1}} and {{foo}}', context())).toBe('Code {{1}} and {{foo}}');
  });

  it('lists the placeholders a text uses', () => {
    expect(placeholdersIn('{{name}} {{attributes.plan|x}} {{name}} {{1}}')).toEqual(['name', 'attributes.plan']);
  });
});

describe('renderReply', () => {
  it('renders the text of a text reply', () => {
    expect(renderReply({ type: 'text', text: 'Hi {{name}}' }, context())).toEqual({ type: 'text', text: 'Hi Ana' });
  });

  it('renders a caption, and drops one that renders empty', () => {
    const image: ReplyContent = { type: 'image', url: 'https://example.com/a.png', caption: 'For {{name}}' };
    expect(renderReply(image, context())).toEqual({ ...image, caption: 'For Ana' });
    const doc: ReplyContent = { type: 'document', url: 'https://example.com/a.pdf', filename: 'a.pdf', caption: '{{name}}' };
    expect(renderReply(doc, context({ name: undefined }))).toEqual({ type: 'document', url: 'https://example.com/a.pdf', filename: 'a.pdf' });
    const bare: ReplyContent = { type: 'image', url: 'https://example.com/a.png' };
    expect(renderReply(bare, context())).toBe(bare);
  });

  it('renders the string text parameters of template components, without mutating them', () => {
    const template: ReplyContent = {
      type: 'template',
      name: 'order_update',
      language: 'pt_BR',
      components: [
        { type: 'body', parameters: [{ type: 'text', text: '{{name|cliente}}' }, { type: 'currency', currency: { code: 'BRL' } }, { type: 'text', text: 7 }] },
        { type: 'button', sub_type: 'url', index: '0' },
        'odd',
      ],
    };
    const copy = structuredClone(template);
    expect(renderReply(template, context({ name: undefined }))).toEqual({
      ...template,
      components: [
        { type: 'body', parameters: [{ type: 'text', text: 'cliente' }, { type: 'currency', currency: { code: 'BRL' } }, { type: 'text', text: 7 }] },
        { type: 'button', sub_type: 'url', index: '0' },
        'odd',
      ],
    });
    expect(template).toEqual(copy);
  });
});
