import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpResponse } from '../../platform/http/request';

/**
 * The storefront script a Shopify theme loads (`GET /api/v1/storefront.js`), served exactly as
 * committed in `storefront.js` beside this module. The function bundle carries a copy next to its
 * `index.js` (the `files` of its definition in contract/resources.ts), so the same relative
 * path finds it in the repository and in Lambda.
 */
export const STOREFRONT_SCRIPT_FILE = 'storefront.js';

/** Browsers and CDNs keep it an hour and may serve it a day longer while they revalidate. */
export const STOREFRONT_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';

/** At most this many bytes gzipped (the budget `npm run bench -- bundles` reports against). */
export const STOREFRONT_BUDGET_GZIP_BYTES = 3 * 1024;

export interface StorefrontScript {
  readonly source: string;
  /** A strong validator of the content: the same bytes, the same ETag. */
  readonly etag: string;
}

export function storefrontScript(source: string): StorefrontScript {
  const digest = createHash('sha256').update(source).digest('base64url').slice(0, 27);
  return { source, etag: `"${digest}"` };
}

let loaded: StorefrontScript | undefined;

/** Read once per instance. */
export function loadStorefrontScript(dir: string = __dirname): StorefrontScript {
  loaded ??= storefrontScript(readFileSync(path.join(dir, STOREFRONT_SCRIPT_FILE), 'utf8'));
  return loaded;
}

/** Whether an `If-None-Match` header names this ETag (or `*`), weak or strong (RFC 9110 §13.1.2). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/** 200 with the script, or 304 when the caller already holds this version. */
export function storefrontResponse(script: StorefrontScript, ifNoneMatch: string | undefined): HttpResponse {
  const headers = { ETag: script.etag, 'Content-Type': 'text/javascript; charset=utf-8' };
  if (matchesEtag(ifNoneMatch, script.etag))
    return { status: 304, text: '', headers, cacheControl: STOREFRONT_CACHE_CONTROL };
  return { status: 200, text: script.source, headers, cacheControl: STOREFRONT_CACHE_CONTROL };
}
