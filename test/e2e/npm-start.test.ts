import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm start` (bin/local.ts) on any free port, without an emulator address, with `extra` in its
 * environment; `output` grows with what it prints on either stream.
 */
function npmStart(extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ...extra };
  delete env.AWS_ENDPOINT_URL;
  const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['bin/local.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = {
    child,
    output: '',
    exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
  };
  const collect = (chunk: Buffer) => {
    started.output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return started;
}

describe('npm start (bin/local.ts)', () => {
  it('starts its own emulator, serves /health, and stops everything on Ctrl-C', async () => {
    const started = npmStart();
    const { child, exited } = started;
    try {
      const deadline = Date.now() + 45_000;
      while (!started.output.includes('Ready.')) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`did not start:\n${started.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output)?.[1];
      const emulatorPid = Number(/started here, pid (\d+)/.exec(started.output)?.[1]);
      expect(url).toBeDefined();
      expect(alive(emulatorPid)).toBe(true);

      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('healthy');

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(started.output).toContain('Stopped.');
      expect(alive(emulatorPid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start a misconfigured stage, saying why, before starting anything', async () => {
    const started = npmStart({ STAGE: 'prod', RATE_LIMIT_STORE: 'memory' });
    expect(await started.exited).toBe(1);
    const { output } = started;
    expect(output).toContain(
      'Could not start: Invalid configuration: RATE_LIMIT_STORE memory is for the dev stage only; stage prod must use the DynamoDB rate-limit table.',
    );
    expect(output).not.toContain('listening');
    expect(output).not.toContain('moto');
  });
});
