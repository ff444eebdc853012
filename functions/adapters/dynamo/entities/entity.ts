/**
 * Items as entities (docs/data-model.md): one definition per item type, its
 * key templates, its index keys and the zod schema of its attributes, that
 * the repositories read and write through. A key string is spelled only in
 * these templates, in the notation of the data model (`A#{accountId}`,
 * `NUMBER#{whatsappPhno}`); the attribute names of the keys and indexes come
 * from the one `TABLE` definition.
 *
 * Deliberately small (no ElectroDB: bundle budget): build a key, a key's
 * `begins_with` prefix, a full item, parse a key back into its parts, parse an
 * item's attributes with its schema.
 */
import * as z from 'zod';
import { TABLE } from '../../../../schemas/table.js';
import { InternalError } from '../../../core/errors.js';

/** The `{name}` parts of a key template. */
type Placeholders<T extends string> = T extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

/** What a key template needs: a value per `{name}`. */
export type KeyParts<T extends string> = { [K in Placeholders<T>]: string | number };

type TableKey = { pk: string; sk: string };
type IndexTemplates = Readonly<Record<string, { readonly pk: string; readonly sk: string; readonly optional?: boolean }>>;
type IndexParts<I extends IndexTemplates> = { [N in keyof I]: KeyParts<I[N]['pk']> & KeyParts<I[N]['sk']> }[keyof I];
/** Union → intersection, so an item's parts cover every template of the entity. */
type AllOf<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** The index parts an item may name (none for an entity without indexes). */
type ItemIndexParts<I extends IndexTemplates> = [keyof I] extends [never] ? unknown : Partial<AllOf<IndexParts<I>>>;

export interface EntityDefinition<PK extends string, SK extends string, I extends IndexTemplates, S extends z.ZodType> {
  /** The `type` attribute every item of this kind carries; counters, claims, routes and markers have none. */
  readonly type?: string;
  readonly key: { readonly pk: PK; readonly sk: SK };
  /** The entity's keys on the table's GSIs; `optional` ones are written only when their parts are known. */
  readonly indexes?: I;
  /** The attributes as stored; `parse` answers its output. */
  readonly schema: S;
  /** How a part is spelled when it is not a string as is (chunk numbers are zero-padded, so they sort). */
  readonly format?: Readonly<Record<string, (value: string | number) => string>>;
}

/** One key attribute's template: built from its parts, cut to a prefix, parsed back. */
export class KeyTemplate<T extends string> {
  private readonly segments: readonly (string | { part: string })[];
  private readonly pattern: RegExp;
  /** The names of the template's parts, in order. */
  readonly parts: readonly string[];

  constructor(
    readonly template: T,
    private readonly format: Readonly<Record<string, (value: string | number) => string>> = {},
  ) {
    this.segments = template.split(/(\{[^}]+\})/).filter(Boolean).map((s) => (s.startsWith('{') ? { part: s.slice(1, -1) } : s));
    this.parts = this.segments.filter((s): s is { part: string } => typeof s !== 'string').map((s) => s.part);
    let seen = 0;
    const source = this.segments
      .map((s) => {
        if (typeof s === 'string') return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        // The last part takes the rest of the key: ids that may hold `#` (idempotency keys) are always last.
        return ++seen === this.parts.length ? '(.*)' : '([^#]*)';
      })
      .join('');
    this.pattern = new RegExp(`^${source}$`);
  }

  build(parts: KeyParts<T>): string {
    return this.segments.map((s) => (typeof s === 'string' ? s : this.spell(s.part, (parts as Record<string, string | number>)[s.part]))).join('');
  }

  /** The template up to its first part not given: a `begins_with` prefix (`CONTACT#` or `CONTACT#{phno}#`). */
  prefix(parts: Partial<KeyParts<T>> = {}): string {
    let out = '';
    for (const s of this.segments) {
      if (typeof s === 'string') {
        out += s;
        continue;
      }
      const value = (parts as Record<string, string | number | undefined>)[s.part];
      if (value === undefined) break;
      out += this.spell(s.part, value);
    }
    return out;
  }

  /** The parts of a key this template built; `undefined` when it is not one. */
  parse(value: unknown): Record<Placeholders<T>, string> | undefined {
    if (typeof value !== 'string') return undefined;
    const match = this.pattern.exec(value);
    if (!match) return undefined;
    return Object.fromEntries(this.parts.map((name, i) => [name, match[i + 1]!])) as Record<Placeholders<T>, string>;
  }

  private spell(part: string, value: string | number | undefined): string {
    if (value === undefined) throw new InternalError(`Key ${this.template} needs its part {${part}}`);
    const format = this.format[part];
    return format ? format(value) : String(value);
  }
}

/** An entity's key on one GSI: the attribute names from `TABLE`, the values from its templates. */
export class IndexKey<PK extends string, SK extends string> {
  readonly pk: KeyTemplate<PK>;
  readonly sk: KeyTemplate<SK>;
  /** The index's key attributes (`gsi1pk`, `gsi1sk`). */
  readonly attributes: { readonly pk: string; readonly sk: string };
  /** Written only when its parts are known (a ledger entry names a number only when one applies). */
  readonly optional: boolean;

  constructor(
    readonly indexName: string,
    templates: { readonly pk: PK; readonly sk: SK; readonly optional?: boolean },
    format: EntityDefinition<string, string, IndexTemplates, z.ZodType>['format'],
  ) {
    const index = TABLE.globalSecondaryIndexes.find((gsi) => gsi.indexName === indexName);
    if (!index) throw new InternalError(`The table has no index ${indexName}`);
    this.attributes = { pk: index.partitionKey, sk: index.sortKey };
    this.pk = new KeyTemplate(templates.pk, format);
    this.sk = new KeyTemplate(templates.sk, format);
    this.optional = templates.optional === true;
  }

  /** The partition value a Query on this index names. */
  partition(parts: KeyParts<PK>): string {
    return this.pk.build(parts);
  }

  /** Both key attributes, ready to spread into an item. */
  keys(parts: KeyParts<PK> & KeyParts<SK>): Record<string, string> {
    return { [this.attributes.pk]: this.pk.build(parts), [this.attributes.sk]: this.sk.build(parts) };
  }
}

export class Entity<PK extends string, SK extends string, I extends IndexTemplates, S extends z.ZodType> {
  readonly type: string | undefined;
  readonly pk: KeyTemplate<PK>;
  readonly sk: KeyTemplate<SK>;
  readonly indexes: { readonly [N in keyof I]: IndexKey<I[N]['pk'], I[N]['sk']> };
  readonly schema: S;

  constructor(definition: EntityDefinition<PK, SK, I, S>) {
    this.type = definition.type;
    this.pk = new KeyTemplate(definition.key.pk, definition.format);
    this.sk = new KeyTemplate(definition.key.sk, definition.format);
    this.schema = definition.schema;
    this.indexes = Object.fromEntries(
      Object.entries(definition.indexes ?? {}).map(([name, templates]) => [name, new IndexKey(name, templates, definition.format)]),
    ) as Entity<PK, SK, I, S>['indexes'];
  }

  /** The item's table key. */
  key(parts: KeyParts<PK> & KeyParts<SK>): TableKey {
    return { [TABLE.partitionKey]: this.pk.build(parts), [TABLE.sortKey]: this.sk.build(parts) } as TableKey;
  }

  /** The partition a Query of these items names. */
  partition(parts: KeyParts<PK>): string {
    return this.pk.build(parts);
  }

  /** The sort-key prefix of these items in their partition (Query `begins_with`), narrowed by the parts given. */
  skPrefix(parts: Partial<KeyParts<SK>> = {}): string {
    return this.sk.prefix(parts);
  }

  /**
   * A whole item for a Put: the table key, the `type`, the attributes, and the
   * key of every index whose parts are known (an `optional` index without its
   * parts is left out; any other is a bug).
   */
  item(parts: KeyParts<PK> & KeyParts<SK> & ItemIndexParts<I>, attributes: z.input<S>): Record<string, unknown> {
    const indexKeys: Record<string, string> = {};
    const given = parts as Record<string, string | number | undefined>;
    for (const index of Object.values(this.indexes) as IndexKey<string, string>[]) {
      const known = [...index.pk.parts, ...index.sk.parts].every((part) => given[part] !== undefined);
      // A missing part of a required index is a bug: `build` names it.
      if (known || !index.optional) Object.assign(indexKeys, index.keys(given as never));
    }
    return { ...this.key(parts), ...(this.type ? { type: this.type } : {}), ...(attributes as object), ...indexKeys };
  }

  /** The parts of an item's table key, or `undefined` when the key is not one of this entity's. */
  keyParts(key: Record<string, unknown>): Record<Placeholders<PK> | Placeholders<SK>, string> | undefined {
    const pk = this.pk.parse(key[TABLE.partitionKey]);
    const sk = this.sk.parse(key[TABLE.sortKey]);
    return pk && sk ? ({ ...pk, ...sk } as Record<Placeholders<PK> | Placeholders<SK>, string>) : undefined;
  }

  /** Whether a key (a cursor's, a request's) is one of this entity's. */
  owns(key: Record<string, unknown>): boolean {
    return this.keyParts(key) !== undefined;
  }

  /** The item's attributes, as its schema reads them (keys and unknown attributes dropped). */
  parse(item: Record<string, unknown>): z.output<S> {
    return this.schema.parse(item);
  }
}

/** Defines an item type of the one table. */
export function defineEntity<const PK extends string, const SK extends string, const I extends IndexTemplates = {}, S extends z.ZodType = z.ZodType>(
  definition: EntityDefinition<PK, SK, I, S>,
): Entity<PK, SK, I, S> {
  return new Entity(definition);
}

/**
 * A string attribute holding one of the core's words (`FailureReason`,
 * `MessageStatus`): checked to be a string, typed as the union its writer
 * narrows it to.
 */
export function word<T extends string>() {
  return z.custom<T>((value) => typeof value === 'string');
}
