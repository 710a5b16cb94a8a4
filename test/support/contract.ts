/**
 * The contract check: every response an e2e test receives through `request()` must be one the
 * OpenAPI document describes (status, required headers, header and body schemas). The document is
 * built from the current code; test/unit/openapi.test.ts keeps docs/openapi.json equal to it.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { matchPath, ROUTES } from '../../contract/routes';
import { version } from '../../package.json';
import { buildOpenApiDocument } from '../../tools/openapi/document';

type Json = Record<string, unknown>;

let cached: { doc: Json; ajv: Ajv2020 } | undefined;
const validators = new Map<string, ValidateFunction>();

function load() {
  if (!cached) {
    const doc = buildOpenApiDocument(version) as unknown as Json;
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
    cached = { doc, ajv };
  }
  return cached;
}

function resolve(doc: Json, node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let out: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) out = (out as Json)[part.replaceAll('~1', '/')];
  return resolve(doc, out as Json);
}

/** Validates `value` against a schema of the document, compiled once per JSON pointer. */
function validatorFor(pointer: string, schema: Json): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    const { ajv } = load();
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    validate = ajv.compile(rebased);
    validators.set(pointer, validate);
  }
  return validate;
}

/** The problems with one response; empty when the document describes it. Unrouted paths are skipped. */
export function contractProblems(
  method: string,
  url: string,
  status: number,
  headers: Headers,
  bodyText: string,
): string[] {
  const { doc } = load();
  const path = new URL(url, 'http://localhost').pathname;
  const route = ROUTES.find((r) => r.method === method.toUpperCase() && matchPath(r.path, path));
  if (!route) return [];
  const where = `${route.method} ${route.path} → ${status}`;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const operation = paths[route.path]?.[route.method.toLowerCase()] as Json;
  const described = (operation.responses as Record<string, Json>)[String(status)];
  if (!described) return [`${where}: the OpenAPI document describes no ${status} for this operation`];
  const response = resolve(doc, described);
  const problems: string[] = [];
  for (const [name, node] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    const header = resolve(doc, node);
    const value = headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`${where}: required header ${name} is missing`);
      continue;
    }
    const validate = validatorFor(`header:${name}:${JSON.stringify(header.schema)}`, header.schema as Json);
    if (!validate(value))
      problems.push(`${where}: header ${name}=${value} ${JSON.stringify(validate.errors)}`);
  }
  const contents = (response.content ?? {}) as Record<string, Json>;
  // A body that is not JSON (the storefront script): the documented media type, the text as its schema says.
  const other = Object.entries(contents).find(([type]) => type !== 'application/json');
  if (!contents['application/json'] && other) {
    const [type, textMedia] = other;
    const contentType = headers.get('content-type')?.split(';')[0]?.trim();
    if (contentType !== type)
      problems.push(`${where}: Content-Type ${contentType} is not the documented ${type}`);
    const validate = validatorFor(
      `${route.method} ${route.path} ${status} ${type}`,
      textMedia.schema as Json,
    );
    if (!validate(bodyText)) problems.push(`${where}: body does not match the document`);
    return problems;
  }
  const media = contents['application/json'];
  if (!media) {
    if (bodyText !== '')
      problems.push(`${where}: the document describes no body, got ${bodyText.slice(0, 200)}`);
    return problems;
  }
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return [...problems, `${where}: body is not JSON: ${bodyText.slice(0, 200)}`];
  }
  const pointer = `${route.method} ${route.path} ${status}`;
  const validate = validatorFor(pointer, media.schema as Json);
  if (!validate(body)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    problems.push(`${where}: body does not match the document: ${errors}`);
  }
  return problems;
}

/** Throws when the document does not describe the response. */
export function assertDescribed(
  method: string,
  url: string,
  status: number,
  headers: Headers,
  bodyText: string,
): void {
  const problems = contractProblems(method, url, status, headers, bodyText);
  if (problems.length) throw new Error(`Contract violation:\n${problems.join('\n')}`);
}
