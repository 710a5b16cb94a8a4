import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { buildOpenApiDocument } from '../../tools/openapi/document';
import { arbitraryOf, FORMATS, type JsonSchema, resolveSchema } from '../support/json-schema-arbitrary';

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument('1.2.3') as unknown as Json;

/** An independent validator that asserts formats with the same checks the generator promises. */
function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  return (schema: JsonSchema) => {
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    return ajv.compile(rebased);
  };
}
const compile = validator();

function expectAllValid(schema: JsonSchema, where: string, numRuns = 60) {
  const validate = compile(schema);
  fc.assert(
    fc.property(arbitraryOf(schema, { root: doc }), (value) => {
      if (!validate(value))
        throw new Error(
          `${where}: ${JSON.stringify(value)?.slice(0, 300)} ${JSON.stringify(validate.errors)}`,
        );
    }),
    { numRuns },
  );
}

describe('JSON Schema arbitraries', () => {
  it('generate only values valid against every schema of the OpenAPI document', () => {
    const schemas = doc.components as { schemas: Record<string, Json> };
    for (const [name, schema] of Object.entries(schemas.schemas)) expectAllValid(schema, name, 25);
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const param of (op.parameters ?? []) as Json[])
          expectAllValid(param.schema as Json, `${method} ${path} ${param.name}`, 25);
      }
    }
  });

  it.each<[string, JsonSchema]>([
    ['a type list with null', { type: ['string', 'null'], maxLength: 3 }],
    [
      'const and enum',
      { type: 'object', properties: { a: { const: 7 }, b: { enum: ['x', 2, null] } }, required: ['a', 'b'] },
    ],
    [
      'closed objects',
      { type: 'object', properties: { a: { type: 'boolean' } }, additionalProperties: false },
    ],
    [
      'typed extra properties',
      {
        type: 'object',
        additionalProperties: { type: 'integer' },
        propertyNames: { pattern: '^[a-z]{1,5}$' },
        minProperties: 1,
      },
    ],
    ['exclusive bounds and multiples', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }],
    ['integers in a range', { type: 'integer', minimum: -3, maximum: 3, multipleOf: 3 }],
    [
      'a repeatable pattern with a minimum length',
      { type: 'string', pattern: '^\\S+$', minLength: 20, maxLength: 30 },
    ],
    ['a fixed-length pattern', { type: 'string', pattern: '^[0-9a-f]{64}$' }],
    [
      'formats',
      {
        type: 'array',
        minItems: 6,
        items: {
          anyOf: ['uuid', 'date', 'date-time', 'email', 'uri', 'ipv4', 'ipv6'].map((format) => ({
            type: 'string',
            format,
          })),
        },
      },
    ],
    [
      'unique items',
      { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, uniqueItems: true, maxItems: 5 },
    ],
    ['oneOf of disjoint types', { oneOf: [{ type: 'integer' }, { type: 'string', minLength: 1 }] }],
    [
      'allOf merged',
      {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'integer' } }, required: ['b'] },
        ],
      },
    ],
    [
      'keywords beside anyOf',
      {
        type: 'object',
        required: ['k'],
        anyOf: [{ properties: { k: { type: 'string' } } }, { properties: { k: { type: 'integer' } } }],
      },
    ],
    ['an empty schema', {}],
    ['a $ref with siblings', { $defs: { s: { type: 'string' } }, $ref: '#/$defs/s', maxLength: 2 }],
    ['an unknown annotation', { type: 'string', 'x-note': 'ignored', description: 'any', maxLength: 4 }],
  ])('%s', (_name, schema) => {
    const validate = new Ajv2020({
      strict: false,
      formats: FORMATS as Record<string, (v: string) => boolean>,
    }).compile(schema as Json);
    fc.assert(
      fc.property(arbitraryOf(schema), (value) => {
        expect({ value, ok: validate(value), errors: validate.errors }).toMatchObject({ ok: true });
      }),
      { numRuns: 100 },
    );
  });

  it('resolves $refs into the document and refuses what it cannot resolve', () => {
    expect(resolveSchema({ $ref: '#/components/schemas/Error' }, doc)).toBe(
      (doc.components as { schemas: Json }).schemas.Error,
    );
    expect(() => resolveSchema({ $ref: '#/components/schemas/Nope' }, doc)).toThrow(/unresolved \$ref/);
    expect(() => resolveSchema({ $ref: 'https://example.org/s.json' }, doc)).toThrow(/only local/);
    expect(() => resolveSchema({ $ref: '#/a' }, { a: { $ref: '#/a' } })).toThrow(/cycle/);
    expect(() => arbitraryOf(false)).toThrow(/admits no value/);
    expect(() => arbitraryOf({ type: 'decimal' })).toThrow(/unknown JSON Schema type/);
  });

  it('format checks tell valid values from invalid ones', () => {
    const check = (format: string, value: string) => (FORMATS[format] as (v: string) => boolean)(value);
    expect(check('date-time', '2026-11-25T10:00:00Z')).toBe(true);
    expect(check('date-time', '2026-02-30T10:00:00Z')).toBe(false);
    expect(check('date-time', '2026-11-25 10:00:00')).toBe(false);
    expect(check('email', 'jane@example.org')).toBe(true);
    expect(check('email', 'jane@localhost')).toBe(false);
    expect(check('email', `${'a'.repeat(65)}@example.org`)).toBe(false);
    expect(check('uri', 'urn:isbn:0451450523')).toBe(true);
    expect(check('uri', 'not a uri')).toBe(false);
    expect(check('uuid', '123e4567-e89b-12d3-a456-426614174000')).toBe(true);
    expect(check('ipv4', '256.1.1.1')).toBe(false);
    expect(check('date', '2026-11-25')).toBe(true);
  });
});
