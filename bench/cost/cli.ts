/**
 * `npm run cost -- --webhooks N --leads N --conversions N [--sources N] [--json]`: the monthly AWS
 * cost of that volume per service, at the list prices of bench/cost/prices.ts and the measured
 * figures of bench/cost/measured.ts.
 */
import { writeSync } from 'node:fs';
import { parseStage, type Stage } from '../../contract/stages';
import type { FixedResources } from './fixed';
import { DEFAULT_VOLUME, formatCost, monthlyCost, type Volume } from './model';

const USAGE =
  'Usage: npm run cost -- --webhooks N --leads N --conversions N [--sources N] [--ingest-containers N] [--stage dev|staging|prod] [--json]';

/** The fixed resources of a stage: from its synthesized template (synthesis takes a few seconds). */
export type FixedOf = (stage: Stage) => FixedResources;

const FLAGS: Record<string, keyof Volume> = {
  '--webhooks': 'webhooks',
  '--leads': 'leads',
  '--conversions': 'conversions',
  '--sources': 'sources',
  '--ingest-containers': 'ingestContainers',
};

/** A count with an optional k/M suffix: 10M, 250k, 1000000. */
export function parseCount(raw: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(raw ?? '');
  if (!match) throw new Error(`not a count: ${raw}`);
  const factor = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2] as '' | 'k' | 'K' | 'm' | 'M'];
  return Math.round(Number(match[1]) * factor);
}

export function costCommand(argv: readonly string[], out: (text: string) => void, fixedOf: FixedOf): number {
  const volume: Volume = { ...DEFAULT_VOLUME };
  let json = false;
  let stage: Stage = 'prod';
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i] as string;
    if (name === '--json') {
      json = true;
      continue;
    }
    if (name === '--stage') {
      try {
        stage = parseStage(argv[++i]);
      } catch (error) {
        out(`--stage: ${(error as Error).message}\n${USAGE}`);
        return 2;
      }
      continue;
    }
    const key = FLAGS[name];
    if (!key) {
      out(`Unknown flag ${name}\n${USAGE}`);
      return 2;
    }
    try {
      volume[key] = parseCount(argv[++i]);
    } catch (error) {
      out(`${name}: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  const fixed = fixedOf(stage);
  const lines = monthlyCost(volume, fixed);
  out(
    json ? JSON.stringify({ volume, stage, fixed, lines }, null, 2) : formatCost(volume, lines, fixed, stage),
  );
  return 0;
}

if (require.main === module) {
  // Loaded here so the model and its tests do not pull in the CDK.
  const { synthesizingFixedOf } = require('./template') as typeof import('./template');
  const fixedOf: FixedOf = synthesizingFixedOf((stage) =>
    writeSync(2, `Synthesizing the ${stage} stack to read its fixed resources...\n`),
  );
  process.exit(costCommand(process.argv.slice(2), (text) => writeSync(1, `${text}\n`), fixedOf));
}
