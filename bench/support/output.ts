/**
 * Counts, and keeps off the terminal, what the functions write to stdout and stderr (their
 * structured logs and EMF metrics, which CloudWatch Logs ingests and bills by the byte).
 */
export interface CapturedOutput {
  /** Bytes of log lines that are not EMF metric documents. */
  logBytes: number;
  logLines: number;
  /** Bytes of EMF documents (lines with an `_aws` key). */
  metricBytes: number;
  metricLines: number;
  lines: string[];
  restore(): void;
  reset(): void;
}

export function captureOutput(keepLines = false): CapturedOutput {
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const captured: CapturedOutput = {
    logBytes: 0,
    logLines: 0,
    metricBytes: 0,
    metricLines: 0,
    lines: [],
    restore: () => {
      process.stdout.write = originalOut;
      process.stderr.write = originalErr;
    },
    reset: () => {
      captured.logBytes = 0;
      captured.logLines = 0;
      captured.metricBytes = 0;
      captured.metricLines = 0;
      captured.lines = [];
    },
  };
  const sink = (chunk: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const bytes = Buffer.byteLength(line) + 1;
      if (line.startsWith('{"_aws"') || line.includes('"_aws":{')) {
        captured.metricBytes += bytes;
        captured.metricLines += 1;
      } else {
        captured.logBytes += bytes;
        captured.logLines += 1;
      }
      if (keepLines) captured.lines.push(line);
    }
    return true;
  };
  process.stdout.write = sink as typeof process.stdout.write;
  process.stderr.write = sink as typeof process.stderr.write;
  return captured;
}
