/**
 * Headers on every response, from the functions, from API Gateway's own error responses and from
 * the local gateway alike. Responses are JSON for API clients: nothing may be cached (they carry
 * tenant data or tokens), sniffed as another type, or fetched over plain HTTP later. No header
 * names the server software.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};
