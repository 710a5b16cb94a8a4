import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * The local AWS emulator: moto in server mode, one process serving DynamoDB, SQS, KMS, S3,
 * CloudWatch, SNS and Secrets Manager on one port.
 */
export class EmulatorUnavailableError extends Error {
  override readonly name = 'EmulatorUnavailableError';
}

export interface Emulator {
  readonly url: string;
  /** Whether this process started it (and so stops it). */
  readonly started: boolean;
  readonly pid?: number;
  stop(): Promise<void>;
}

const MOTO_CHECK = 'import moto, moto.server, moto.moto_server.werkzeug_app, flask, werkzeug';
/** moto's server with DynamoDB requests serialised (see the file for why). */
const MOTO_SERVER = path.join(__dirname, 'moto_server.py');

function hasMoto(python: string): boolean {
  const probe = spawnSync(python, ['-c', MOTO_CHECK], { stdio: 'ignore', timeout: 30_000 });
  return probe.status === 0;
}

/**
 * Finds a Python with moto's server mode: the project's `.venv`, else the system `python3`.
 * If neither has it, creates `.venv` and installs `moto[server]` into it; if that fails too,
 * says exactly what to install.
 */
export function findPython(root: string, log: (line: string) => void = () => {}): string {
  const venvPython = path.join(root, '.venv', 'bin', 'python');
  const candidates = [process.env.MOTO_PYTHON, venvPython, 'python3'].filter((p): p is string => !!p);
  for (const candidate of candidates) {
    if ((candidate === venvPython ? existsSync(candidate) : true) && hasMoto(candidate)) return candidate;
  }
  log('moto not found; installing moto[server] into .venv ...');
  const venv = spawnSync('python3', ['-m', 'venv', path.join(root, '.venv')], { stdio: 'inherit' });
  if (venv.status === 0) {
    const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--quiet', 'moto[server]>=5,<6'], {
      stdio: 'inherit',
    });
    if (pip.status === 0 && hasMoto(venvPython)) return venvPython;
  }
  throw new EmulatorUnavailableError(
    'The local AWS emulator needs Python 3 with moto server mode. Install it with ' +
      '`python3 -m pip install "moto[server]>=5,<6"` (or into ./.venv), or point AWS_ENDPOINT_URL ' +
      'at a running moto server.',
  );
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function isReachable(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export interface StartEmulatorOptions {
  root: string;
  host?: string;
  port?: number;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Starts moto on a free (or given) port and waits until it answers. */
export async function startEmulator(options: StartEmulatorOptions): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const python = findPython(options.root, options.log);
  const child = spawn(python, [MOTO_SERVER, '-H', host, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (!(await isReachable(url, 500))) {
    if (child.exitCode !== null) {
      throw new EmulatorUnavailableError(`moto exited with code ${child.exitCode}: ${stderr.trim()}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EmulatorUnavailableError(`moto did not answer on ${url} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    started: true,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 3_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 3_000);
      }
    },
  };
}

/** Uses a running emulator at `url`; stopping it is left to whoever started it. */
export async function useEmulator(url: string): Promise<Emulator> {
  if (!(await isReachable(url, 2_000))) {
    throw new EmulatorUnavailableError(`No emulator answers at ${url} (AWS_ENDPOINT_URL)`);
  }
  return { url, started: false, stop: async () => {} };
}

/** Drops all emulator state: every table, queue, key, bucket and secret. */
export async function resetEmulator(url: string): Promise<void> {
  const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`emulator reset failed with ${res.status}`);
  await res.arrayBuffer();
}
