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

describe('npm start (bin/local.ts)', () => {
  it('starts its own emulator, serves /health, and stops everything on Ctrl-C', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env.AWS_ENDPOINT_URL;
    const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['bin/local.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      while (!output.includes('Ready.')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      const emulatorPid = Number(/started here, pid (\d+)/.exec(output)?.[1]);
      expect(url).toBeDefined();
      expect(alive(emulatorPid)).toBe(true);

      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('healthy');

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('Stopped.');
      expect(alive(emulatorPid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start a misconfigured stage, saying why, before starting anything', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', STAGE: 'prod', RATE_LIMIT_STORE: 'memory' };
    delete env.AWS_ENDPOINT_URL;
    const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['bin/local.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(output).toContain(
      'Could not start: Invalid configuration: RATE_LIMIT_STORE memory is for the dev stage only; stage prod must use the DynamoDB rate-limit table.',
    );
    expect(output).not.toContain('listening');
    expect(output).not.toContain('moto');
  });
});
