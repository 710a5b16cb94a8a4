import { version } from '../../package.json';
import { buildOpenApiDocument } from './document';

/** Where the generated document is committed; the API serves this file. */
export const OPENAPI_PATH = 'docs/openapi.json';

/** The document as written to docs/openapi.json. */
export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApiDocument(version), null, 2)}\n`;
}
