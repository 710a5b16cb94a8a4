#!/usr/bin/env node
/** Writes docs/openapi.json from the route table and schemas (`npm run openapi`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_PATH, renderOpenApi } from '../tools/openapi/render';

try {
  const text = renderOpenApi();
  writeFileSync(join(__dirname, '..', OPENAPI_PATH), text);
  process.stdout.write(`Wrote ${OPENAPI_PATH} (${text.length} bytes)\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
