/**
 * The repository documents itself: no file points at documents that live
 * outside it (a clone has nothing next to it), and every relative link of the
 * README and of `docs/*.md` leads to a file in the repository (and to a
 * heading that exists, when it names one).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Spelled in pieces so that this file does not match itself. */
const SIBLING_FOLDER = ['..', 'shared'].join('/');
const OUTSIDE_DOCUMENTS = ['DESIGN', 'API', 'STYLE'].map((name) => `${name}.md`);

const OUTSIDE_REFERENCES: { name: string; pattern: RegExp }[] = [
  { name: SIBLING_FOLDER, pattern: new RegExp(escape(SIBLING_FOLDER)) },
  ...OUTSIDE_DOCUMENTS.map((name) => ({ name, pattern: new RegExp(`\\b${escape(name)}\\b`) })),
];

const CHECKED_EXTENSIONS = new Set(['.md', '.ts', '.json']);
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'cdk.out', '.cdk-test-out', 'coverage', '.local-data']);

/** The repository's files (tracked, plus new ones not ignored), as paths relative to the root. */
function repositoryFiles(): string[] {
  try {
    const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return listed
      .split('\0')
      .filter((file) => file !== '' && !file.split('/').some((part) => SKIPPED_DIRS.has(part)))
      .filter((file) => existsSync(join(ROOT, file)));
  } catch {
    // Not a git checkout (an unpacked archive): every file but the skipped folders.
    return walk(ROOT).map((file) => relative(ROOT, file).split(sep).join('/'));
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : walk(join(dir, entry.name));
    return entry.isFile() ? [join(dir, entry.name)] : [];
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The repository's own documents: the README and `docs/*.md`. */
function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

/** Blanks fenced code blocks (keeping line numbers) and inline code spans: links are not parsed inside code. */
function proseOf(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    return line.replace(/(`+)(?:(?!\1).)+?\1/g, '');
  });
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[text](target "title")` and reference definitions `[label]: target`. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  proseOf(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1]!.replace(/^<|>$/g, '') });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (definition) links.push({ line: index + 1, target: definition[1]!.replace(/^<|>$/g, '') });
  });
  return links;
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Why a relative link is broken, or undefined when it leads somewhere in the repository. */
function brokenLink(document: string, target: string): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(target) || target.startsWith('//')) return undefined; // http:, https:, mailto:
  const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(pathPart.split('?')[0]!);
  const file = path === '' ? join(ROOT, document) : path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(document), path);
  const inside = relative(ROOT, file);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return 'leaves the repository';
  if (!existsSync(file)) return `${inside.split(sep).join('/')} does not exist`;
  if (fragment && file.endsWith('.md') && statSync(file).isFile()) {
    const anchor = decodeURIComponent(fragment).toLowerCase();
    if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) return `no heading #${fragment} in ${inside.split(sep).join('/')}`;
  }
  return undefined;
}

describe('references outside the repository', () => {
  it('are in no .md, .ts or .json file of the repository', () => {
    const files = repositoryFiles().filter((file) => CHECKED_EXTENSIONS.has(extname(file)));
    expect(files).toContain('README.md');
    const found: string[] = [];
    for (const file of files) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((text, index) => {
          for (const { name, pattern } of OUTSIDE_REFERENCES) {
            if (pattern.test(text)) found.push(`${file}:${index + 1}: ${name}: ${text.trim().slice(0, 160)}`);
          }
        });
    }
    expect(found).toEqual([]);
  });
});

describe('relative links of the README and docs/*.md', () => {
  it('lead to files (and headings) that exist in the repository', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const document of documents()) {
      for (const { line, target } of linksOf(readFileSync(join(ROOT, document), 'utf8'))) {
        checked++;
        const why = brokenLink(document, target);
        if (why) broken.push(`${document}:${line}: ${target}: ${why}`);
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it('include a README link to every document in docs/', () => {
    const readmeTargets = new Set(
      linksOf(readFileSync(join(ROOT, 'README.md'), 'utf8')).map(({ target }) => target.split('#')[0]!.replace(/^\.\//, '')),
    );
    const docs = documents().filter((document) => document.startsWith('docs/'));
    expect(docs).toEqual(expect.arrayContaining(['docs/architecture.md', 'docs/data-model.md', 'docs/events.md', 'docs/quotas.md']));
    expect(docs.filter((document) => !readmeTargets.has(document))).toEqual([]);
  });
});

describe('the link checker', () => {
  it('refuses a link that leaves the repository even when the target exists on this machine', () => {
    expect(existsSync(resolve(ROOT, '..'))).toBe(true);
    expect(brokenLink('README.md', '../')).toBe('leaves the repository');
    expect(brokenLink('docs/quotas.md', '../../README.md')).toBe('leaves the repository');
    expect(brokenLink('docs/quotas.md', '../README.md')).toBeUndefined();
    expect(brokenLink('docs/quotas.md', 'missing.md')).toBe('docs/missing.md does not exist');
  });

  it('finds links in prose but not in code', () => {
    const markdown = ['[a](docs/a.md) `[b](b.md)`', '```', '[c](c.md)', '```', '[d]: d.md'].join('\n');
    expect(linksOf(markdown)).toEqual([
      { line: 1, target: 'docs/a.md' },
      { line: 5, target: 'd.md' },
    ]);
  });

  it('names headings the way GitHub anchors them', () => {
    const anchors = anchorsOf('# Shared quotas\n## Broadcasts: reserve, send, settle, refund\n## How it holds ([docs/quotas.md](docs/quotas.md))\n## Shared quotas');
    expect([...anchors]).toEqual(['shared-quotas', 'broadcasts-reserve-send-settle-refund', 'how-it-holds-docsquotasmd', 'shared-quotas-1']);
  });
});
