import { describe, expect, it } from 'vitest';
import { contains, distance, exact, fuzzy, fuzzyBudget, normalise, words } from '../../functions/core/text-normalise.js';

describe('normalise', () => {
  it('folds case, Latin diacritics and punctuation: "preco" matches "PREÇO?"', () => {
    expect(normalise('PREÇO?')).toBe('preco');
    expect(exact('preco', 'PREÇO?')).toBe(true);
    expect(exact('preço', 'Preco!!!')).toBe(true);
  });

  it('drops U+FE0F: "❤" matches "❤️", and keeps emoji as words of their own', () => {
    expect(normalise('❤️')).toBe('❤');
    expect(exact('❤', '❤️')).toBe(true);
    expect(normalise('obrigado❤️!')).toBe('obrigado ❤');
    expect(contains('❤', 'obrigado❤️')).toBe(true);
    expect(normalise('👨‍👩‍👧')).toBe('👨‍👩‍👧');
    expect(normalise('🇧🇷Brasil')).toBe('🇧🇷 brasil');
  });

  it('keeps the marks of other scripts', () => {
    expect(normalise('नमस्ते')).toBe('नमस्ते');
    expect(exact('नमस्ते', 'नमस्त')).toBe(false);
    expect(normalise('مَرْحَبًا')).toBe('مَرْحَبًا');
    expect(exact('مرحبا', 'مَرْحَبًا')).toBe(false);
    expect(normalise('שָׁלוֹם')).toBe('שָׁלוֹם'.normalize('NFKC'));
    expect(normalise('สวัสดี')).toBe('สวัสดี');
    expect(normalise('й')).toBe('й');
    expect(normalise('ά')).toBe('ά');
  });

  it('folds Latin letters with marks stacked or with a stroke, and compatibility forms', () => {
    expect(normalise('phở')).toBe('pho');
    expect(normalise('Ệ')).toBe('e');
    expect(normalise('Łódź Øre')).toBe('lodz ore');
    expect(normalise('ＰＲＥÇＯ')).toBe('preco');
    expect(normalise('ﬁm')).toBe('fim');
    expect(normalise('İstanbul')).toBe('istanbul');
  });

  it('case folds ß and the final sigma', () => {
    expect(normalise('STRASSE')).toBe(normalise('Straße'));
    expect(normalise('ΟΔΟΣ')).toBe(normalise('οδοσ'));
  });

  it('trims and collapses whitespace of every kind', () => {
    expect(normalise('  Hello,\t\n  World!! ')).toBe('hello world');
    expect(normalise('a\u00A0b\u200Bc')).toBe('a b c');
    expect(normalise('   ')).toBe('');
  });

  it('drops apostrophes inside words and separates at other punctuation', () => {
    expect(normalise("Don't")).toBe('dont');
    expect(normalise('e-mail/whatsapp')).toBe('e mail whatsapp');
    expect(normalise('R$ 10 + frete')).toBe('r$ 10 + frete');
  });

  it('is idempotent', () => {
    for (const text of ['PREÇO?', '❤️ obrigado', 'नमस्ते', 'Straße', '  a  b ', 'İ', '🇧🇷Brasil']) {
      expect(normalise(normalise(text))).toBe(normalise(text));
    }
  });

  it('splits words', () => {
    expect(words('')).toEqual([]);
    expect(words('a b')).toEqual(['a', 'b']);
  });
});

describe('exact and contains', () => {
  it('matches the whole message only when exact', () => {
    expect(exact('price', 'price')).toBe(true);
    expect(exact('price', 'the price')).toBe(false);
  });

  it('matches a whole word or phrase when contains', () => {
    expect(contains('price', 'What is the PRICE?')).toBe(true);
    expect(contains('price list', 'send me the price list, please')).toBe(true);
    expect(contains('price', 'prices')).toBe(false);
    expect(contains('list price', 'price list')).toBe(false);
  });

  it('never matches a keyword that normalises to nothing', () => {
    expect(exact('?!', '')).toBe(false);
    expect(contains('?!', 'anything ?!')).toBe(false);
    expect(fuzzy('!!!!', '')).toBe(false);
  });
});

describe('fuzzy', () => {
  it('allows max(1, floor(length / 5)) edits from 4 characters, none below', () => {
    expect(fuzzyBudget('hi')).toBe(0);
    expect(fuzzyBudget('abc')).toBe(0);
    expect(fuzzyBudget('menu')).toBe(1);
    expect(fuzzyBudget('preco')).toBe(1);
    expect(fuzzyBudget('123456789')).toBe(1);
    expect(fuzzyBudget('0123456789')).toBe(2);
    expect(fuzzyBudget('012345678901234')).toBe(3);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(distance('menu', 'mneu')).toBe(1);
    expect(distance('abc', 'abc')).toBe(0);
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('kitten', 'sitting', 1)).toBe(2);
  });

  it('matches within the budget, against the whole message or a run of as many words', () => {
    expect(fuzzy('menu', 'mneu')).toBe(true);
    expect(fuzzy('menu', 'the mneu please')).toBe(true);
    expect(fuzzy('menu', 'mnue')).toBe(false);
    expect(fuzzy('pricelist', 'pricelsit')).toBe(true);
    expect(fuzzy('pricelist', 'prcelsit')).toBe(false);
    expect(fuzzy('opening hours', 'what are your openign hours?')).toBe(true);
    expect(fuzzy('opening hours', 'what are your openign housr?')).toBe(true);
    expect(fuzzy('opening hours', 'what are your opnign housr?')).toBe(false);
    expect(fuzzy('preço', 'PRECIO')).toBe(true);
  });

  it('matches a short keyword without edits only', () => {
    expect(fuzzy('oi', 'oi tudo bem')).toBe(true);
    expect(fuzzy('oi', 'io')).toBe(false);
  });
});
