/**
 * Personal data and credentials a test suite sent or received, and where any of them shows up in
 * what the suite's processes wrote. Pure functions; the e2e capture (leak-capture.ts) feeds them.
 */

/** Keys whose string values are personal data or credentials, wherever they appear in a JSON body. */
const SENSITIVE_KEY =
  /^(email|phone|first_?name|last_?name|full_?name|gclid|gbraid|wbraid|fbclid|msclkid|webhook_secret|client_secret|refresh_token|access_token|api_key|key|password|secret|token)$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Shorter values are too common to mean anything when found (a status, a digit). */
const MIN_LENGTH = 6;

export interface Sensitive {
  readonly value: string;
  /** What it is, for the report: e.g. `request body email`. */
  readonly kind: string;
}

/** Collects the sensitive string leaves of a JSON value: by key, and every email-shaped string. */
export function sensitiveValues(value: unknown, kind: string, into: Sensitive[] = [], key = ''): Sensitive[] {
  if (typeof value === 'string') {
    if ((SENSITIVE_KEY.test(key) || EMAIL.test(value.trim())) && value.length >= MIN_LENGTH) {
      into.push({ value, kind: `${kind} ${key || 'value'}` });
    }
  } else if (Array.isArray(value)) {
    for (const item of value) sensitiveValues(item, kind, into, key);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) sensitiveValues(v, kind, into, k);
  }
  return into;
}

/** The credential of an Authorization header (`Bearer x`, `ApiKey x`). */
export function credentialOf(authorization: string): Sensitive[] {
  const credential = authorization.trim().split(/\s+/)[1];
  return credential && credential.length >= MIN_LENGTH
    ? [{ value: credential, kind: 'Authorization credential' }]
    : [];
}

/** A webhook URL's token: the path segment after `/webhook/`. */
export function webhookTokenOf(url: string): Sensitive[] {
  const match = /\/webhook\/([^/?#]+)/.exec(url);
  return match?.[1] && match[1].length >= MIN_LENGTH ? [{ value: match[1], kind: 'webhook URL token' }] : [];
}

export interface Leak {
  readonly kind: string;
  readonly where: string;
  /** The line it was found in, the value masked. */
  readonly line: string;
}

/** Every place a sensitive value stands in the output, with the value masked in the report. */
export function findLeaks(
  outputs: ReadonlyArray<{ readonly where: string; readonly text: string }>,
  sensitive: readonly Sensitive[],
): Leak[] {
  const unique = new Map<string, Sensitive>();
  for (const s of sensitive) unique.set(s.value, s);
  const leaks: Leak[] = [];
  for (const { where, text } of outputs) {
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      for (const { value, kind } of unique.values()) {
        const variants = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
        if (variants.some((v) => line.includes(v))) {
          const masked = variants.reduce((l, v) => l.split(v).join('<redacted>'), line);
          leaks.push({ kind, where: `${where}, line ${index + 1}`, line: masked.slice(0, 300) });
        }
      }
    });
  }
  return leaks;
}

export function describeLeaks(leaks: readonly Leak[]): string {
  return leaks.map((l) => `${l.kind} found in ${l.where}: ${l.line}`).join('\n');
}
