/**
 * Client-side pacing of Data Manager requests: Google allows 300 requests a minute per Cloud
 * project (IngestionService), so each uploader process keeps to its share: at most `perMinute`
 * requests in any sliding minute, waiting for a slot rather than earning a 429. No I/O here.
 */
export const PROJECT_REQUESTS_PER_MINUTE = 300;

export class QuotaPacer {
  private readonly sent: number[] = [];

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new Error('perMinute must be at least 1');
  }

  /** How long a request made now must wait, in milliseconds (0 when a slot is free). */
  waitMs(): number {
    const now = this.now();
    while (this.sent.length && (this.sent[0] as number) <= now - 60_000) this.sent.shift();
    if (this.sent.length < this.perMinute) return 0;
    return (this.sent[0] as number) + 60_000 - now;
  }

  /** Waits for a slot, then takes it. */
  async take(): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await this.sleep(wait);
    this.sent.push(this.now());
  }
}

/**
 * The share of one uploader process: the project's quota divided by the uploader's maximum
 * concurrency (the event source's `maxConcurrency`), overridable with
 * `GOOGLE_DATA_MANAGER_REQUESTS_PER_MINUTE` (a whole-project figure).
 */
export function perProcessLimit(concurrency: number, env: NodeJS.ProcessEnv = process.env): number {
  const project = Number(env.GOOGLE_DATA_MANAGER_REQUESTS_PER_MINUTE) || PROJECT_REQUESTS_PER_MINUTE;
  return Math.max(1, Math.floor(project / Math.max(1, concurrency)));
}
