/** Plumbing for calls this service makes to other services over HTTP (the ad platforms). */

/** The body of an answer as JSON; undefined when it is empty or not JSON (an error page). */
export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a failed `fetch` ran out of time (its `AbortSignal.timeout` fired, or it was aborted). */
export function timedOut(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  return name === 'TimeoutError' || name === 'AbortError';
}
