/**
 * The one builder of `UpdateExpression`s: every attribute name and value is
 * aliased (`#u0`, `:u0`), so reserved words and any attribute name are safe,
 * and an attribute given `undefined` is left out (optional fields need no
 * `if`). The condition guarding the update is written next to it, by hand,
 * with its own names and values; the builder merges the two.
 */
import { InternalError } from '../../core/errors.js';

const OPERATION = Symbol('operation');

type SetOperation =
  | { readonly [OPERATION]: 'ifNotExists'; readonly value: unknown }
  | { readonly [OPERATION]: 'increment'; readonly by: number };

/** `name = if_not_exists(name, value)`: set only where nothing is stored yet. */
export function ifNotExists(value: unknown): SetOperation {
  return { [OPERATION]: 'ifNotExists', value };
}

/** `name = if_not_exists(name, 0) + by`: a counter that starts at zero. */
export function increment(by: number): SetOperation {
  return { [OPERATION]: 'increment', by };
}

export interface UpdateChanges {
  /** `SET`, in this order; a value may be `ifNotExists(…)` or `increment(…)`. */
  set?: Record<string, unknown>;
  /** `ADD`: numbers added (an absent attribute counts as 0); zeros are left out. */
  add?: Record<string, number>;
  remove?: readonly string[];
}

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** The expression parts of an `UpdateItem` or of a transaction's `Update`. */
export interface UpdateExpressionInput {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** The expression parts of an `UpdateItem` (or a transaction's `Update`), with its condition. */
export function updateExpression(changes: UpdateChanges, condition?: Condition): UpdateExpressionInput {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const nameOf = (attribute: string) => {
    const alias = `#u${Object.keys(names).length}`;
    names[alias] = attribute;
    return alias;
  };
  const valueOf = (value: unknown) => {
    const alias = `:u${Object.keys(values).length}`;
    values[alias] = value;
    return alias;
  };

  const sets: string[] = [];
  for (const [attribute, value] of Object.entries(changes.set ?? {})) {
    if (value === undefined) continue;
    const name = nameOf(attribute);
    if (isOperation(value) && value[OPERATION] === 'ifNotExists') sets.push(`${name} = if_not_exists(${name}, ${valueOf(value.value)})`);
    else if (isOperation(value) && value[OPERATION] === 'increment') sets.push(`${name} = if_not_exists(${name}, ${valueOf(0)}) + ${valueOf(value.by)}`);
    else sets.push(`${name} = ${valueOf(value)}`);
  }
  const adds = Object.entries(changes.add ?? {})
    .filter(([, by]) => by !== 0)
    .map(([attribute, by]) => `${nameOf(attribute)} ${valueOf(by)}`);
  const removes = (changes.remove ?? []).map(nameOf);

  const clauses = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    adds.length ? `ADD ${adds.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ].filter(Boolean);
  if (clauses.length === 0) throw new InternalError('An update needs at least one change');

  for (const alias of [...Object.keys(condition?.names ?? {}), ...Object.keys(condition?.values ?? {})]) {
    if (alias in names || alias in values) throw new InternalError(`Condition alias ${alias} collides with the update's`);
  }
  const allNames = { ...names, ...condition?.names };
  const allValues = { ...values, ...condition?.values };
  return {
    UpdateExpression: clauses.join(' '),
    ...(condition ? { ConditionExpression: condition.expression } : {}),
    ...(Object.keys(allNames).length ? { ExpressionAttributeNames: allNames } : {}),
    ...(Object.keys(allValues).length ? { ExpressionAttributeValues: allValues } : {}),
  };
}

function isOperation(value: unknown): value is SetOperation {
  return typeof value === 'object' && value !== null && OPERATION in value;
}
