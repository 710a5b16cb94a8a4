/**
 * `npm run cost:docs`: rewrites the figures of docs/cost.md from the model and the synthesized
 * stack. Each figure block follows a marker naming the command that prints it:
 *
 *   <!-- npm run cost -- --webhooks 1M --leads 100k --conversions 100k -->
 *   ```text
 *   ...what that command prints...
 *   ```
 *
 * test/infra/cost.test.ts fails when the committed document differs from what this writes.
 */
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Stage } from '../../contract/stages';
import { costCommand } from './cli';
import type { FixedResources } from './fixed';

export const COST_DOC = path.resolve(__dirname, '..', '..', 'docs', 'cost.md');

const BLOCK = /<!-- npm run cost -- ([^>]*?) -->\n```text\n[\s\S]*?\n```/g;

/** The document with every marked block replaced by what its command prints. */
export function renderCostDoc(doc: string, fixedOf: (stage: Stage) => FixedResources): string {
  return doc.replace(BLOCK, (_block, args: string) => {
    const printed: string[] = [];
    const status = costCommand(args.trim().split(/\s+/), (text) => printed.push(text), fixedOf);
    if (status !== 0) throw new Error(`npm run cost -- ${args} failed: ${printed.join('\n')}`);
    return `<!-- npm run cost -- ${args} -->\n\`\`\`text\n${printed.join('\n')}\n\`\`\``;
  });
}

if (require.main === module) {
  writeSync(2, 'Synthesizing the stack and rewriting the figures of docs/cost.md...\n');
  const doc = readFileSync(COST_DOC, 'utf8');
  // Loaded here so the model and its tests do not pull in the CDK.
  const { synthesizingFixedOf } = require('./template') as typeof import('./template');
  const rendered = renderCostDoc(doc, synthesizingFixedOf());
  writeFileSync(COST_DOC, rendered);
  writeSync(2, rendered === doc ? 'docs/cost.md was up to date.\n' : 'docs/cost.md updated.\n');
}
