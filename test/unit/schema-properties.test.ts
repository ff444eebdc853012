/**
 * Properties of the zod schemas (schemas/) and of the API's body decoding,
 * with fast-check:
 * - junk of any shape never makes a schema throw: `safeParse` answers
 *   success or a ZodError whose issues each have a path and a message
 *   (every exported schema of every module, and every route's body, query
 *   and path schema);
 * - a value a route's schema accepts round-trips through JSON and is
 *   accepted again, to the same result; its parsed form is a fixed point
 *   (what the API stores reads back the same);
 * - the body decoding (`jsonBody`, `parseJsonBytes`) and `validate` throw
 *   nothing but a 4xx `AppError` for any bytes, content type and encoding;
 *   bytes that are not UTF-8 and `__proto__` keys at any depth are refused.
 *
 * Values a schema accepts are drawn from its own JSON Schema (the one the
 * OpenAPI document shows): its examples, enums, patterns, bounds and formats.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { jsonBody, parseJsonBytes, validate } from '../../functions/commons/http.js';
import { AppError, ValidationFailed } from '../../functions/core/errors.js';
import { metaTime } from '../../functions/core/message-content.js';
import { inboundMessageBase } from '../../schemas/meta-message.js';

const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
const schemaFiles = readdirSync(SCHEMAS_DIR, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).sort();
const schemaModules = await Promise.all(schemaFiles.map(async (file) => [file, (await import(pathToFileURL(join(SCHEMAS_DIR, file)).href)) as Record<string, unknown>] as const));

/** Every zod schema the schemas/ modules export, by `module#name`. */
const exported: [string, z.ZodType][] = schemaModules.flatMap(([file, module]) =>
  Object.entries(module)
    .filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType)
    .map(([name, schema]) => [`${file}#${name}`, schema] as [string, z.ZodType]),
);

/** Every route's body, query and path schema, by `METHOD path body|query|path`. */
const routeSchemas: [string, z.ZodType, 'body' | 'query' | 'path'][] = apiRoutes.flatMap((route) =>
  (
    [
      ['body', route.body],
      ['query', route.query],
      ['path', route.params],
    ] as const
  )
    .filter((entry): entry is ['body' | 'query' | 'path', z.ZodType] => entry[1] !== undefined)
    .map(([where, schema]) => [`${route.method} ${route.path} ${where}`, schema, where] as [string, z.ZodType, 'body' | 'query' | 'path']),
);

/**
 * Junk: any value at all, JSON or not (undefined, NaN, dates, maps, sets, sparse arrays, boxed values…). Not
 * null-prototype objects: zod's error message for a non-plain object reads `constructor.name` and throws a
 * TypeError when that is a null-prototype object (upstream; JSON.parse never makes such objects, and a
 * `__proto__` key, the one way a body could, is refused before validation: see the parseJsonBytes properties).
 */
const junk = fc.anything({ maxDepth: 4, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withObjectString: true, withSparseArray: true, withTypedArray: true });
/**
 * Junk that JSON can carry, with the keys that matter: `__proto__`, `constructor`, and the fields of the API.
 * Objects keep `Object.prototype`, as `JSON.parse` makes them: zod's error message reads `constructor.name` of an
 * object of another prototype, which a null-prototype object with a `constructor` key turns into a TypeError.
 */
const jsonJunk = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'toJSON', 'name', 'type', 'id', 'text', 'scope', 'whatsapp_phno', 'steps', 'action'), fc.string()), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
})).value;

function expectZodAnswer(name: string, schema: z.ZodType, value: unknown): void {
  let result: ReturnType<z.ZodType['safeParse']>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    throw new Error(`${name}: safeParse threw ${(error as Error)?.stack ?? error}`);
  }
  if (result.success) return;
  expect(result.error, name).toBeInstanceOf(z.ZodError);
  expect(result.error.issues.length, name).toBeGreaterThan(0);
  for (const issue of result.error.issues) {
    expect(Array.isArray(issue.path), name).toBe(true);
    expect(typeof issue.message, name).toBe('string');
  }
}

describe('junk never makes a schema throw', () => {
  it('finds the schemas: every module exports some, every route with a body has its schema here', () => {
    expect(exported.length).toBeGreaterThan(100);
    expect(routeSchemas.filter(([, , where]) => where === 'body').length).toBe(apiRoutes.filter((r) => r.body).length);
  });

  it('every exported schema answers any value with success or a ZodError', () => {
    fc.assert(
      fc.property(junk, (value) => {
        for (const [name, schema] of exported) expectZodAnswer(name, schema, value);
      }),
      { numRuns: 150 },
    );
  });

  it('every route schema answers JSON junk (with __proto__ and constructor keys) with success or a ZodError', () => {
    fc.assert(
      fc.property(jsonJunk, (value) => {
        for (const [name, schema] of routeSchemas) expectZodAnswer(name, schema, value);
      }),
      { numRuns: 200 },
    );
  });

  it('every route schema answers objects with its own fields given junk values with success or a ZodError', () => {
    for (const [name, schema] of routeSchemas) {
      const fields = Object.keys(jsonSchemaOf(schema).properties ?? {});
      if (!fields.length) continue;
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom(...fields), fc.oneof(jsonJunk, junk), { maxKeys: fields.length, noNullPrototype: true }), (value) => expectZodAnswer(name, schema, value)),
        { numRuns: 40 },
      );
    }
  });
});

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  example?: unknown;
  examples?: unknown[];
  default?: unknown;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
}

function stringOf(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, Math.max(min, 40));
  if (s.format === 'email') return fc.emailAddress().filter((e) => e.length <= (s.maxLength ?? 320));
  if (s.format === 'uri') return fc.webUrl({ validSchemes: ['https'] });
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) {
    try {
      return fc.stringMatching(new RegExp(s.pattern)).filter((text) => text.length >= min && text.length <= (s.maxLength ?? Infinity));
    } catch {
      // a pattern fast-check cannot generate from: plain strings then
    }
  }
  return fc.string({ minLength: min, maxLength: max });
}

/** Values shaped by a JSON Schema: most of them valid for it, the rest refused by its refinements. */
function arbitraryOf(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const examples = [...(s.example !== undefined ? [s.example] : []), ...(s.examples ?? []), ...(s.default !== undefined ? [s.default] : [])];
  const shaped = shapedBy(s, depth).map(withoutNegativeZero);
  return examples.length ? fc.oneof(fc.constantFrom(...examples), shaped) : shaped;
}

/** -0 is JSON's 0: drawn as 0, so "the same after a JSON round trip" compares values a client can send. */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]));
  return value;
}

function shapedBy(s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union) return fc.oneof(...union.map((branch) => arbitraryOf(branch, depth + 1)));
  if (s.allOf?.length) return arbitraryOf(s.allOf[0]!, depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return stringOf(s);
    case 'integer':
      return fc.integer({ min: Math.ceil(s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : s.minimum ?? -1000), max: Math.floor(s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Math.min(s.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER)) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = s.minItems ?? 0;
      return fc.array(s.items && depth < 6 ? arbitraryOf(s.items, depth + 1) : fc.constant(null), { minLength: min, maxLength: Math.min(s.maxItems ?? 3, Math.max(min, 3)) });
    }
    case 'object': {
      if (s.properties) {
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, property] of Object.entries(s.properties)) record[key] = depth < 6 ? arbitraryOf(property, depth + 1) : fc.constant(null);
        return fc.record(record, { requiredKeys: (s.required ?? []).filter((key) => key in record) });
      }
      if (typeof s.additionalProperties === 'object') {
        return fc.dictionary(s.propertyNames ? stringOf(s.propertyNames) : fc.string({ minLength: 1, maxLength: 10 }), arbitraryOf(s.additionalProperties, depth + 1), { maxKeys: 3 });
      }
      return fc.constant({});
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** Bodies whose parsed form is an internal shape, not an input (`conversationId` → `{whatsappPhno, contactKey, …}`). */
const INTERNAL_OUTPUT = new Set(['POST /v1/sequences/{id}/enrollments body']);

describe('what a route accepts, it accepts again', () => {
  /** Per schema: how many of the drawn values it accepted (at least some must be, or the property says nothing). */
  const accepted = new Map<string, number>();

  it.each(routeSchemas.map(([name, schema, where]) => ({ name, schema, where })))('$name: JSON round trip and parsed form are fixed points', ({ name, schema, where }) => {
    const json = jsonSchemaOf(schema);
    // Query and path values arrive as strings: what is drawn is sent as its string, as a URL carries it.
    const drawn = where === 'body' ? arbitraryOf(json) : arbitraryOf(json).map((value) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : value));
    let count = 0;
    fc.assert(
      fc.property(drawn, (value) => {
        const first = schema.safeParse(value);
        if (!first.success) return;
        count += 1;
        // Through JSON, as a client sends it: accepted again, to the same result.
        const again = schema.safeParse(JSON.parse(JSON.stringify(value)));
        expect(again.success, `${name}: ${JSON.stringify(value)} → ${JSON.stringify(again.error?.issues)}`).toBe(true);
        expect(again.data).toEqual(first.data);
        // The parsed form is JSON (what is stored and answered) …
        expect(JSON.parse(JSON.stringify(first.data))).toEqual(first.data);
        // … and, for a body, itself an accepted input that parses to itself (normalising twice changes nothing).
        if (where === 'body' && !INTERNAL_OUTPUT.has(name)) {
          const twice = schema.safeParse(first.data);
          expect(twice.success, `${name}: parsed ${JSON.stringify(first.data)} → ${JSON.stringify(twice.error?.issues)}`).toBe(true);
          expect(twice.data).toEqual(first.data);
        }
      }),
      { numRuns: 120 },
    );
    accepted.set(name, count);
  });

  it('the drawn values were accepted often enough to mean something', () => {
    const withSome = [...accepted.values()].filter((n) => n > 0).length;
    expect(accepted.size).toBe(routeSchemas.length);
    // Refinements (phone numbers, cross-field rules) refuse many draws; most schemas still accept some.
    expect(withSome / accepted.size, JSON.stringify([...accepted].filter(([, n]) => n === 0).map(([name]) => name))).toBeGreaterThan(0.75);
  });
});

/** An API Gateway event carrying these bytes, as the HTTP API hands them over. */
function eventWith(bytes: Uint8Array, options: { base64: boolean; contentType?: string }): APIGatewayProxyEventV2 {
  const buffer = Buffer.from(bytes);
  return {
    headers: options.contentType === undefined ? {} : { 'content-type': options.contentType },
    body: bytes.length ? (options.base64 ? buffer.toString('base64') : buffer.toString('utf8')) : undefined,
    isBase64Encoded: options.base64,
  } as unknown as APIGatewayProxyEventV2;
}

function expectRefusalOnly(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).statusCode).toBeGreaterThanOrEqual(400);
    expect((error as AppError).statusCode).toBeLessThan(500);
    expect((error as AppError).message).toMatch(/\S/);
  }
}

describe('the API body decoding never throws anything but a 4xx', () => {
  const contentType = fc.option(fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''), fc.string()), { nil: undefined });
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')), fc.string().map((s) => new TextEncoder().encode(s)));

  it('jsonBody: any bytes, base64 or not, any content type', () => {
    fc.assert(
      fc.property(bytes, fc.boolean(), contentType, (body, base64, type) => expectRefusalOnly(() => jsonBody(eventWith(body, { base64, contentType: type })))),
      { numRuns: 1000 },
    );
  });

  it('validate, after jsonBody, with every route body schema: only VALIDATION_FAILED, each issue under body', () => {
    fc.assert(
      fc.property(bytes, (body) => {
        let value: unknown;
        try {
          value = jsonBody(eventWith(body, { base64: true, contentType: 'application/json' }));
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationFailed);
          return;
        }
        for (const [, schema, where] of routeSchemas.filter(([, , w]) => w === 'body')) {
          try {
            validate(schema, value, where);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationFailed);
            for (const issue of (error as ValidationFailed).details.issues) expect(issue.path[0]).toBe('body');
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('parseJsonBytes: well-formed UTF-8 JSON without __proto__ reads as JSON.parse reads it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!text.includes('__proto__'));
        expect(parseJsonBytes(new TextEncoder().encode(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('parseJsonBytes: a __proto__ key at any depth, spelled out or escaped, is refused naming it', () => {
    const key = fc.constantFrom('"__proto__"', '"\\u005f_proto__"', '"\\u005F\\u005Fproto__"', '"__\\u0070roto__"', '"__p\\u0072oto__"', '"__pr\\u006Fto__"', '"__pro\\u0074o__"');
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.integer({ min: 0, max: 6 }), key, fc.jsonValue({ maxDepth: 1 }), (inner, depth, spelled, payload) => {
        const withKey = `{${spelled}: ${JSON.stringify(payload)}, "x": ${JSON.stringify(inner)}}`;
        const text = `${'{"a": ['.repeat(depth)}${withKey}${']}'.repeat(depth)}`;
        expect(() => parseJsonBytes(new TextEncoder().encode(text))).toThrow(/__proto__/);
      }),
      { numRuns: 300 },
    );
  });

  it('parseJsonBytes: bytes that are not UTF-8 are refused naming UTF-8, wherever they sit', () => {
    // A byte no UTF-8 sequence takes (0xC0, 0xC1, 0xF5–0xFF), or a continuation byte with nothing before it.
    const badByte = fc.oneof(fc.constantFrom(0xc0, 0xc1), fc.integer({ min: 0xf5, max: 0xff }), fc.integer({ min: 0x80, max: 0xbf }));
    fc.assert(
      fc.property(fc.string(), fc.string(), badByte, (before, after, byte) => {
        const head = new TextEncoder().encode(`{"a": ${JSON.stringify(before)}, "b": "`);
        const tail = new TextEncoder().encode(`${JSON.stringify(after).slice(1)}}`);
        const body = new Uint8Array([...head, byte, ...tail]);
        expect(() => parseJsonBytes(body)).toThrow(/UTF-8/);
        // Through the API's decoding too (API Gateway base64-encodes such a body).
        expect(() => jsonBody(eventWith(body, { base64: true, contentType: 'application/json' }))).toThrow(/UTF-8/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Meta's identifying fields, hostile", () => {
  it('metaTime: any timestamp the webhook schema lets through gives a time a Date holds, never a RangeError', () => {
    // A timestamp in ms sent as seconds once made every consumer throw (Invalid time value) and dead-letter the message.
    const timestamp = fc.oneof(fc.string(), fc.double().map(String), fc.bigInt().map(String), fc.constantFrom('99999999999999', '8640000000001', '1e400', '-1', 'NaN', ' 12 ', '0x10'));
    fc.assert(
      fc.property(timestamp, (value) => {
        const at = metaTime(value, '2026-01-02T03:04:05.000Z');
        expect(Number.isFinite(Date.parse(at)), `${value} → ${at}`).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('a message id longer than 512 characters is not a message: it would not fit a DynamoDB key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 513, maxLength: 3000 }), (id) => {
        expect(inboundMessageBase.safeParse({ id, from: '5511900000001', timestamp: '1700000000', type: 'text' }).success).toBe(false);
      }),
      { numRuns: 50 },
    );
    expect(inboundMessageBase.safeParse({ id: `wamid.${'A'.repeat(100)}`, from: '5511900000001', timestamp: '1700000000', type: 'text' }).success).toBe(true);
  });
});
