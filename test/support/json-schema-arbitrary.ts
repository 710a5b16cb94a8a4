/**
 * fast-check arbitraries of values that are VALID against a JSON Schema (draft 2020-12, the
 * dialect of OpenAPI 3.1), for the keywords the OpenAPI document uses: `$ref` (into the document),
 * `type` (one or a list), `properties`/`required`/`additionalProperties`/`propertyNames`,
 * `enum`/`const`, `minLength`/`maxLength`, `minimum`/`maximum` (and their exclusive forms),
 * `format` (email, date-time, date, uri, uuid, ipv4, ipv6), `pattern`, `anyOf`/`oneOf`/`allOf`,
 * `items`/`minItems`/`maxItems`. Annotations (`description`, `default`, `example`…) and keywords
 * it does not know are ignored, which is safe for the ones that only annotate; a schema that
 * constrains with an unknown keyword is caught by the unit test, which validates every generated
 * value of every schema in the document with ajv.
 *
 * `FORMATS` are the format checks the generators satisfy, for a validator that asserts formats.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };
type Node = { readonly [keyword: string]: unknown };

export interface ArbitraryOptions {
  /** The document `$ref`s point into (`#/components/schemas/...`). */
  readonly root?: unknown;
  /** How deep `$ref`s and nested schemas may go before optional parts are left out. */
  readonly maxDepth?: number;
}

const RFC3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** A calendar day that exists (Date.parse would take 2026-02-30 for March 2). */
function realDay(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** The format checks the generated values pass (a validator can assert them with ajv.addFormat). */
export const FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  'date-time': (v) => RFC3339.test(v) && realDay(v.slice(0, 10)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && realDay(v),
  // RFC 5321 mailbox, dot-atom local part and a host name with at least two labels.
  email: (v) =>
    /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/.test(
      v,
    ) && (v.split('@')[0] as string).length <= 64,
  // RFC 3986 absolute URI: a scheme, then no whitespace or characters a URI never holds.
  uri: (v) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>\\^`{|}]*$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  ipv4: (v) => isIP(v) === 4,
  ipv6: (v) => isIP(v) === 6,
};

/** Follows `$ref` (a JSON pointer into `root`, `#/...`) until a schema that is not a reference. */
export function resolveSchema(schema: JsonSchema, root: unknown): JsonSchema {
  let current = schema;
  for (let hops = 0; typeof current === 'object' && typeof current.$ref === 'string'; hops++) {
    if (hops > 32) throw new Error(`$ref cycle at ${current.$ref}`);
    const ref = current.$ref as string;
    if (!ref.startsWith('#')) throw new Error(`only local $refs are supported: ${ref}`);
    let target: unknown = root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      target = (target as Record<string, unknown> | undefined)?.[part];
    }
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    const { $ref: _ref, ...siblings } = current;
    // 2020-12: keywords beside $ref apply too; the referenced schema's come first.
    current = Object.keys(siblings).length ? { ...(target as Node), ...siblings } : (target as JsonSchema);
  }
  return current;
}

const TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'] as const;

/** `allOf` merged into one schema: properties and required joined, other keywords of later parts win. */
function mergeAllOf(node: Node, root: unknown): Node {
  const { allOf, ...rest } = node;
  let merged: Record<string, unknown> = { ...rest };
  for (const part of allOf as JsonSchema[]) {
    const resolved = resolveSchema(part, root);
    if (resolved === true) continue;
    if (resolved === false) throw new Error('allOf with false: no value is valid');
    const inner = resolved.allOf ? mergeAllOf(resolved, root) : resolved;
    merged = {
      ...merged,
      ...inner,
      properties: { ...(merged.properties as Node), ...(inner.properties as Node) },
      required: [...((merged.required as string[]) ?? []), ...((inner.required as string[]) ?? [])],
    };
  }
  return merged;
}

function typesOf(node: Node): string[] {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type as string[];
  if (node.properties || node.additionalProperties !== undefined || node.required) return ['object'];
  if (node.items || node.minItems !== undefined || node.maxItems !== undefined) return ['array'];
  if (node.minLength !== undefined || node.maxLength !== undefined || node.pattern || node.format)
    return ['string'];
  if (node.minimum !== undefined || node.maximum !== undefined) return ['number'];
  return [...TYPES];
}

/** Length as JSON Schema counts it: in code points. */
const codePoints = (s: string) => [...s].length;

function dateTime(): fc.Arbitrary<string> {
  const instant = fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2099-12-31T23:59:59Z'),
    noInvalidDate: true,
  });
  const recent = fc
    .integer({ min: -100 * 86_400, max: 0 })
    .map((seconds) => new Date(Date.now() + seconds * 1000));
  return fc
    .tuple(fc.oneof(recent, instant), fc.constantFrom('Z', '+00:00', '+02:00', '-05:30'), fc.boolean())
    .map(([date, zone, millis]) => {
      const minutes =
        zone === 'Z'
          ? 0
          : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
      const local = new Date(date.getTime() + minutes * 60_000).toISOString();
      return `${millis ? local.slice(0, 23) : local.slice(0, 19)}${zone}`;
    });
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);

function formatted(format: string): fc.Arbitrary<string> | undefined {
  switch (format) {
    case 'date-time':
      return dateTime();
    case 'date':
      return dateTime().map((s) => s.slice(0, 10));
    case 'email':
      return fc
        .tuple(
          fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(?:\.[a-z0-9_+-]{1,10})?$/),
          label,
          label,
          fc.stringMatching(/^[a-z]{2,6}$/),
        )
        .map(([local, a, b, tld]) => `${local}@${a}.${b}.${tld}`);
    case 'uri':
      return fc.oneof(
        { weight: 4, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
        fc.constantFrom('urn:isbn:0451450523', 'mailto:someone@example.org', 'ftp://ftp.example.org/a'),
      );
    case 'uuid':
      return fc.uuid();
    case 'ipv4':
      return fc.ipV4();
    case 'ipv6':
      return fc.ipV6();
    default:
      return undefined;
  }
}

function stringArbitrary(node: Node): fc.Arbitrary<string> {
  const minLength = (node.minLength as number | undefined) ?? 0;
  const maxLength = node.maxLength as number | undefined;
  const pattern = typeof node.pattern === 'string' ? new RegExp(node.pattern, 'u') : undefined;
  const fits = (s: string) =>
    codePoints(s) >= minLength &&
    (maxLength === undefined || codePoints(s) <= maxLength) &&
    (!pattern || pattern.test(s)) &&
    (typeof node.format !== 'string' ||
      !FORMATS[node.format] ||
      (FORMATS[node.format] as (v: string) => boolean)(s));
  const byFormat = typeof node.format === 'string' ? formatted(node.format) : undefined;
  if (byFormat) return byFormat.filter(fits);
  if (pattern) {
    // A short match of a repeatable pattern (`^\S+$` of 20 or more) is repeated to reach minLength.
    return fc
      .stringMatching(pattern, { size: 'medium' })
      .map((s) => {
        if (codePoints(s) >= minLength || s.length === 0) return s;
        const repeated = s.repeat(Math.ceil(minLength / codePoints(s)));
        return pattern.test(repeated) ? repeated : s;
      })
      .filter(fits);
  }
  const max = maxLength ?? Math.max(minLength, 40) + 40;
  const bounds = { minLength, maxLength: max };
  return fc.oneof(
    { weight: 3, arbitrary: fc.string(bounds) },
    fc.string({ ...bounds, unit: 'grapheme' }).filter(fits),
    fc.string({ ...bounds, unit: 'binary' }),
  );
}

function numberArbitrary(node: Node, integer: boolean): fc.Arbitrary<number> {
  const min = node.minimum as number | undefined;
  const max = node.maximum as number | undefined;
  const exMin = node.exclusiveMinimum as number | undefined;
  const exMax = node.exclusiveMaximum as number | undefined;
  const multipleOf = node.multipleOf as number | undefined;
  if (integer || multipleOf !== undefined) {
    const step = multipleOf ?? 1;
    let lo = min ?? (exMin !== undefined ? exMin + (integer ? 1 : Number.EPSILON) : -1e9);
    let hi = max ?? (exMax !== undefined ? exMax - (integer ? 1 : Number.EPSILON) : 1e9);
    if (exMin !== undefined) lo = Math.max(lo, exMin + step);
    if (exMax !== undefined) hi = Math.min(hi, exMax - step);
    const first = Math.ceil(lo / step);
    const last = Math.floor(hi / step);
    return fc
      .integer({
        min: Math.max(first, Number.MIN_SAFE_INTEGER),
        max: Math.min(last, Number.MAX_SAFE_INTEGER),
      })
      .map((k) => k * step);
  }
  return fc
    .double({
      ...(min !== undefined ? { min } : { min: -1e12 }),
      ...(max !== undefined ? { max } : { max: 1e12 }),
      noNaN: true,
      noDefaultInfinity: true,
    })
    .map((n) => (Object.is(n, -0) ? 0 : n))
    .filter((n) => (exMin === undefined || n > exMin) && (exMax === undefined || n < exMax));
}

function objectArbitrary(node: Node, root: unknown, depth: number, maxDepth: number): fc.Arbitrary<unknown> {
  const properties = (node.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((node.required as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (!required.has(name) && depth >= maxDepth) continue;
    model[name] = arbitraryOf(schema, { root, maxDepth }, depth + 1);
  }
  for (const name of required) {
    // A required property the schema does not describe: any value.
    model[name] ??= fc.jsonValue({ maxDepth: 1 });
  }
  const requiredOnly = Object.fromEntries(Object.entries(model).filter(([name]) => required.has(name)));
  // Now and then only the required properties: each optional one can only add a way to be refused.
  const known = fc.oneof(
    { weight: 3, arbitrary: fc.record(model, { requiredKeys: [...required] }) },
    { weight: 1, arbitrary: fc.record(requiredOnly) },
  );
  const additional = node.additionalProperties ?? true;
  const minProperties = (node.minProperties as number | undefined) ?? 0;
  const maxProperties = (node.maxProperties as number | undefined) ?? Number.POSITIVE_INFINITY;
  const sized = (o: Record<string, unknown>) =>
    Object.keys(o).length >= minProperties && Object.keys(o).length <= maxProperties;
  if (additional === false || depth >= maxDepth) return known.filter(sized);
  const names = node.propertyNames
    ? (arbitraryOf(node.propertyNames as JsonSchema, { root, maxDepth }, depth + 1) as fc.Arbitrary<string>)
    : fc.string({ minLength: 1, maxLength: 12 });
  const extra = fc.dictionary(
    names.filter((n) => !(n in properties) && n !== '__proto__'),
    arbitraryOf(additional as JsonSchema, { root, maxDepth }, depth + 1),
    { maxKeys: 3 },
  );
  return fc
    .tuple(known, extra)
    .map(([k, e]) => ({ ...e, ...k }))
    .filter(sized);
}

function arrayArbitrary(node: Node, root: unknown, depth: number, maxDepth: number): fc.Arbitrary<unknown[]> {
  const minItems = (node.minItems as number | undefined) ?? 0;
  const maxItems = Math.max(
    minItems,
    Math.min((node.maxItems as number | undefined) ?? minItems + 5, minItems + 5),
  );
  const items = node.items === undefined ? true : (node.items as JsonSchema);
  const item = arbitraryOf(items, { root, maxDepth }, depth + 1);
  const array = fc.array(item, { minLength: minItems, maxLength: depth >= maxDepth ? minItems : maxItems });
  if (!node.uniqueItems) return array;
  return fc.uniqueArray(item, {
    minLength: minItems,
    maxLength: maxItems,
    selector: (v) => JSON.stringify(v),
  });
}

function ofType(
  type: string,
  node: Node,
  root: unknown,
  depth: number,
  maxDepth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return numberArbitrary(node, true);
    case 'number':
      return numberArbitrary(node, false);
    case 'string':
      return stringArbitrary(node);
    case 'array':
      return arrayArbitrary(node, root, depth, maxDepth);
    case 'object':
      return objectArbitrary(node, root, depth, maxDepth);
    default:
      throw new Error(`unknown JSON Schema type ${type}`);
  }
}

/** An arbitrary of values valid against `schema`. Throws for a schema no value can satisfy. */
export function arbitraryOf(
  schema: JsonSchema,
  options: ArbitraryOptions = {},
  depth = 0,
): fc.Arbitrary<unknown> {
  const root = options.root ?? schema;
  const maxDepth = options.maxDepth ?? 6;
  let node = resolveSchema(schema, root);
  if (node === false) throw new Error('the schema false admits no value');
  if (node === true) return fc.jsonValue({ maxDepth: Math.max(0, Math.min(2, maxDepth - depth)) });
  if (Array.isArray(node.allOf)) node = mergeAllOf(node, root);
  if ('const' in node) return fc.constant(node.const);
  if (Array.isArray(node.enum)) return fc.constantFrom(...(node.enum as unknown[]));
  const alternatives = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alternatives)) {
    const { anyOf: _any, oneOf: _one, ...shared } = node;
    return fc.oneof(
      ...alternatives.map((alt) => {
        const resolved = resolveSchema(alt, root);
        // Keywords beside anyOf/oneOf constrain every alternative.
        const combined =
          typeof resolved === 'object' && Object.keys(shared).length
            ? { allOf: [shared, resolved] }
            : resolved;
        return arbitraryOf(combined, { root, maxDepth }, depth + 1);
      }),
    );
  }
  const types = typesOf(node);
  return fc.oneof(...types.map((type) => ofType(type, node as Node, root, depth, maxDepth)));
}
