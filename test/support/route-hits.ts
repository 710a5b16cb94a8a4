import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { matchPath, ROUTES, routeKey } from '../../contract/routes';

/** Where each e2e file leaves the routes it called; test/tiers.ts checks their union. */
export const ROUTE_HITS_DIR = path.resolve(__dirname, '..', '..', 'coverage', 'route-hits');

/** The route-table key a request to the local stack reached, if any. */
export function routeOf(method: string, pathname: string): string | undefined {
  const route = ROUTES.find((r) => r.method === method.toUpperCase() && matchPath(r.path, pathname));
  return route ? routeKey(route.method, route.path) : undefined;
}

export function saveRouteHits(testFile: string, hits: Iterable<string>): void {
  mkdirSync(ROUTE_HITS_DIR, { recursive: true });
  writeFileSync(
    path.join(ROUTE_HITS_DIR, `${path.basename(testFile)}.json`),
    JSON.stringify([...hits].sort()),
  );
}

/** The routes of the route table no e2e file called. */
export function routesNotExercised(dir = ROUTE_HITS_DIR): string[] {
  const hit = new Set<string>();
  for (const file of readdirSync(dir)) {
    for (const key of JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as string[]) hit.add(key);
  }
  return ROUTES.map((r) => routeKey(r.method, r.path)).filter((key) => !hit.has(key));
}
