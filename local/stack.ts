import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { COMMON_ENV_VARS, QUEUES, type QueueId } from '../contract/resources';
import { assertSettings } from '../functions/shared/platform/config/settings';
import { sweepExpired } from '../ops/retention';
import { bootstrap } from './bootstrap';
import { type Emulator, startEmulator, useEmulator } from './emulator';
import { type AccessLogEntry, createGateway } from './gateway';
import { REPO_ROOT } from './lambda';
import { QueuePoller } from './poller';

/**
 * The whole system on one machine: the emulator, the resources of the shared list, the route
 * table behind a local gateway and every queue consumer polling its queue.
 */
export interface LocalStackOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Use this running emulator instead of starting one. */
  emulatorUrl?: string;
  region?: string;
  prefix?: string;
  retryDelaySeconds?: number;
  /** Queues whose consumer is not started, so a test can read what was queued. */
  withoutConsumers?: readonly QueueId[];
  /**
   * How often expired items are deleted (the emulator has no TTL of its own; AWS deletes them in
   * the background, typically within two days). Default 10 minutes; 0 never.
   */
  sweepEveryMs?: number;
  log?: (line: string) => void;
  accessLog?: (entry: AccessLogEntry) => void;
}

export interface LocalStack {
  readonly url: string;
  readonly emulator: Emulator;
  readonly env: Readonly<Record<string, string>>;
  /** Emits `batch` (a BatchReport) after each consumer invocation, and `error`. */
  readonly events: EventEmitter;
  stop(): Promise<void>;
}

/**
 * Settings an operator may give the local run; any other value comes from the bootstrap. Without
 * JWT_SECRET, functions read the signing secret from the emulator's Secrets Manager, as in AWS,
 * so `npm run ops -- secret rotate --local` rotates it for the running stack.
 */
const OVERRIDABLE = new Set<string>([COMMON_ENV_VARS.backupKmsKeyId]);

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const log = options.log ?? (() => {});
  const givenPublicUrl = process.env[COMMON_ENV_VARS.publicBaseUrl] || undefined;
  // Every setting checked before anything starts: a misconfigured stage refuses to run.
  assertSettings(process.env);
  const emulator = options.emulatorUrl
    ? await useEmulator(options.emulatorUrl)
    : await startEmulator({ root: REPO_ROOT, host, log });

  let server: Server | undefined;
  const pollers: QueuePoller[] = [];
  let sqs: SQSClient | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  const stop = async () => {
    if (sweeper) clearInterval(sweeper);
    await sweeping;
    await Promise.all(pollers.map((p) => p.stop()));
    sqs?.destroy();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    await emulator.stop();
    if (!givenPublicUrl) delete process.env[COMMON_ENV_VARS.publicBaseUrl];
  };

  try {
    const defaults: Record<string, string> = {
      AWS_ENDPOINT_URL: emulator.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      STAGE: process.env.STAGE ?? 'dev',
      APP_VERSION: packageVersion(),
      POWERTOOLS_SERVICE_NAME: 'adsengineer',
    };
    Object.assign(process.env, defaults);
    const created = await bootstrap({
      endpoint: emulator.url,
      region,
      prefix: options.prefix ?? 'adsengineer-local',
      jwtSecret: process.env.JWT_SECRET || undefined,
    });
    const env: Record<string, string> = { ...defaults };
    for (const [name, value] of Object.entries(created)) {
      const given = process.env[name];
      env[name] = OVERRIDABLE.has(name) && given !== undefined ? given : value;
    }
    Object.assign(process.env, env);

    const events = new EventEmitter();
    sqs = new SQSClient({ endpoint: emulator.url, region });
    for (const queue of QUEUES) {
      if (!queue.consumer || options.withoutConsumers?.includes(queue.id)) continue;
      const poller = new QueuePoller({
        sqs,
        queue,
        queueUrl: env[queue.envVar] as string,
        region,
        retryDelaySeconds: options.retryDelaySeconds ?? 1,
        events,
      });
      poller.start();
      pollers.push(poller);
    }

    const sweepEveryMs = options.sweepEveryMs ?? 10 * 60_000;
    if (sweepEveryMs > 0) {
      sweeper = setInterval(() => {
        sweeping = sweepExpired().then(
          (swept) => {
            const deleted = swept.reduce((sum, table) => sum + table.deleted, 0);
            if (deleted) log(`Retention: deleted ${deleted} expired item(s)`);
          },
          (error: unknown) => log(`Retention sweep failed: ${(error as Error).message}`),
        );
      }, sweepEveryMs);
      sweeper.unref();
    }

    const gateway = createGateway({ region, stage: env.STAGE as string, accessLog: options.accessLog });
    server = gateway;
    const port = await new Promise<number>((resolve, reject) => {
      gateway.once('error', reject);
      gateway.listen(options.port ?? 3000, host, () => {
        const address = gateway.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    const url = `http://${host}:${port}`;
    // The base of every URL the API hands out, as the stack sets it in AWS: the gateway's own
    // address unless the operator names another (a tunnel or proxy in front), never a Host header.
    const publicUrl = givenPublicUrl ?? url;
    env[COMMON_ENV_VARS.publicBaseUrl] = publicUrl;
    process.env[COMMON_ENV_VARS.publicBaseUrl] = publicUrl;
    log(`AdsEngineer listening on ${url}`);
    log(
      `AWS emulator: moto at ${emulator.url} (${emulator.started ? `started here, pid ${emulator.pid}` : 'reused'})`,
    );
    return { url, emulator, env, events, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
