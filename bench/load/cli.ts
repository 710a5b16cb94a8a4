/**
 * `npm run load [-- flags]`: a realistic, bounded load against the local stack (started here, on
 * loopback, by default) or a deployed stage (`--url` and `--api-key`), with per-scenario figures,
 * end-to-end latencies, a terminal summary and a JSON result file.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { writeSync } from 'node:fs';
import { captureOutput } from '../support/output';
import { startLocalTarget } from './local';
import { DEFAULT_LOAD, formatLoad, LOAD_LIMITS, type LoadOptions, runLoad, writeLoadResult } from './run';
import { prepareTenant } from './tenant';

const USAGE = `Usage: npm run load -- [flags]
  --duration <s>        seconds of load, at most ${LOAD_LIMITS.durationSeconds} (default ${DEFAULT_LOAD.durationSeconds})
  --rate <n>            requests per second over all scenarios, at most ${LOAD_LIMITS.rate} (default ${DEFAULT_LOAD.rate})
  --max-requests <n>    requests in all, at most ${LOAD_LIMITS.maxRequests} (default ${DEFAULT_LOAD.maxRequests})
  --connections <n>     connections per scenario, at most ${LOAD_LIMITS.connections} (default ${DEFAULT_LOAD.connections})
  --probes <n>          end-to-end samples of each kind (default ${DEFAULT_LOAD.probes})
  --out <file>          JSON result file (default load-result.json)
  --url <base url>      a deployed stage instead of the local stack; needs --api-key
  --api-key <key>       an admin API key of a tenant kept for load tests (its webhook sources are replaced)
  --stripe-secret <s>   the stage's Stripe endpoint secret, with --tenant-id, to include Stripe events
  --tenant-id <id>      the load tenant's id (for Stripe events)`;

export interface LoadFlags {
  options: Omit<LoadOptions, 'log'>;
  out: string;
  url?: string;
  apiKey?: string;
  stripeSecret?: string;
  tenantId?: string;
}

export class UsageError extends Error {}

function bounded(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`--${name} must be a number above 0 and at most ${max}, not ${raw}`);
  }
  return value;
}

export function parseLoadFlags(argv: readonly string[]): LoadFlags {
  const flags: LoadFlags = { options: { ...DEFAULT_LOAD }, out: 'load-result.json' };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i] as string;
    const value = argv[i + 1];
    const take = () => {
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
      i++;
      return value;
    };
    switch (name) {
      case '--duration':
        flags.options.durationSeconds = bounded('duration', take(), LOAD_LIMITS.durationSeconds);
        break;
      case '--rate':
        flags.options.rate = bounded('rate', take(), LOAD_LIMITS.rate);
        break;
      case '--max-requests':
        flags.options.maxRequests = Math.floor(bounded('max-requests', take(), LOAD_LIMITS.maxRequests));
        break;
      case '--connections':
        flags.options.connections = Math.floor(bounded('connections', take(), LOAD_LIMITS.connections));
        break;
      case '--probes':
        flags.options.probes = Math.floor(bounded('probes', take(), 1_000));
        break;
      case '--out':
        flags.out = take();
        break;
      case '--url':
        flags.url = take().replace(/\/+$/, '');
        break;
      case '--api-key':
        flags.apiKey = take();
        break;
      case '--stripe-secret':
        flags.stripeSecret = take();
        break;
      case '--tenant-id':
        flags.tenantId = take();
        break;
      default:
        throw new UsageError(`Unknown flag ${name}`);
    }
  }
  if (flags.url && !flags.apiKey)
    throw new UsageError('--url needs --api-key (an admin key of the load tenant)');
  if (flags.apiKey && !flags.url)
    throw new UsageError('--api-key goes with --url; the local stack makes its own');
  if (flags.url && !/^https?:\/\//.test(flags.url))
    throw new UsageError('--url must start with http:// or https://');
  return flags;
}

export async function loadCommand(
  argv: readonly string[],
  log: (line: string) => void,
  local: { emulatorUrl?: string } = {},
): Promise<number> {
  let flags: LoadFlags;
  try {
    flags = parseLoadFlags(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      log(`${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const options: LoadOptions = { ...flags.options, log };
  if (flags.url && flags.apiKey) {
    log(`Preparing the load tenant on ${flags.url} ...`);
    const main = await prepareTenant(flags.url, flags.apiKey, `r${Date.now().toString(36)}`);
    const result = await runLoad(
      flags.url,
      {
        main,
        apiKey: flags.apiKey,
        probe: main,
        uploads: false,
        ...(flags.stripeSecret ? { stripeSecret: flags.stripeSecret } : {}),
        ...(flags.tenantId ? { tenantId: flags.tenantId } : {}),
      },
      options,
    );
    log(formatLoad(result));
    writeLoadResult(flags.out, result);
    log(`Result written to ${flags.out}`);
    return 0;
  }
  // The functions run in this process: their logs and metrics are counted, not printed.
  const output = captureOutput();
  const target = await startLocalTarget({ ...local, log }).catch((error: unknown) => {
    output.restore();
    throw error;
  });
  try {
    const result = await runLoad(target.url, target.targets, options);
    log(formatLoad(result));
    writeLoadResult(flags.out, result);
    log(`Result written to ${flags.out}`);
    return 0;
  } finally {
    await target.stop();
    output.restore();
  }
}

if (require.main === module) {
  loadCommand(process.argv.slice(2), (line) => writeSync(1, `${line}\n`)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`Load run failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
