import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Socket } from 'node:net';

export type ProxyMode = 'forward' | 'hang';

export interface EmulatorProxy {
  readonly url: string;
  /** Requests seen per AWS operation (`X-Amz-Target`, e.g. `DynamoDB_20120810.PutItem`). */
  readonly targets: Map<string, number>;
  count(...targets: string[]): number;
  /** `hang`: accept requests and never answer, as a dependency that stopped responding. */
  setMode(mode: ProxyMode): void;
  /** Forwards each request this long after it came: a busy emulator (0, the default: at once). */
  setDelay(ms: number): void;
  /** Stops listening and drops every connection: the emulator is gone (connection refused). */
  stop(): Promise<void>;
}

/**
 * A loopback proxy in front of the emulator, so a test can count the AWS calls the code makes and
 * make the emulator stop answering or disappear, without disturbing the shared emulator.
 */
export async function startEmulatorProxy(upstream: string): Promise<EmulatorProxy> {
  const target = new URL(upstream);
  const targets = new Map<string, number>();
  const sockets = new Set<Socket>();
  let mode: ProxyMode = 'forward';
  let delayMs = 0;
  const server: Server = createServer(async (req, res) => {
    const name = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url?.split('?')[0]}`);
    targets.set(name, (targets.get(name) ?? 0) + 1);
    if (mode === 'hang') return;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    count: (...names) => names.reduce((sum, name) => sum + (targets.get(name) ?? 0), 0),
    setMode: (next) => {
      mode = next;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
