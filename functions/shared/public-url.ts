/**
 * The public base URL a caller reached the API on, for URLs the API hands out (webhook URLs, the
 * OAuth callback). The execute-api host carries the stage in the path; a custom domain maps the
 * stage at its root; the local run mode is plain HTTP.
 */
export function publicBaseUrl(host: string | undefined, stage: string | undefined): string {
  const name = host ?? 'localhost';
  const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(name);
  const executeApi = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(name);
  const stagePrefix = stage && executeApi ? `/${stage}` : '';
  return `${local ? 'http' : 'https'}://${name}${stagePrefix}`;
}
