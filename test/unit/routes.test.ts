import { FUNCTIONS } from '../../contract/resources';
import { findRoute, matchPath, ROUTES, routeKey, routesOf } from '../../contract/routes';

describe('route table', () => {
  it('maps every route to a declared function, once', () => {
    const functionIds = new Set(FUNCTIONS.map((f) => f.id));
    const keys = ROUTES.map((r) => routeKey(r.method, r.path));
    expect(new Set(keys).size).toBe(keys.length);
    for (const route of ROUTES) expect(functionIds.has(route.functionId)).toBe(true);
  });

  it('finds a route by method and resource path', () => {
    expect(findRoute('get', '/health')?.functionId).toBe('health');
    expect(findRoute('POST', '/health')).toBeUndefined();
    expect(routesOf('health').map((r) => r.path)).toEqual(['/health']);
  });
});

describe('matchPath', () => {
  it('matches literal segments', () => {
    expect(matchPath('/health', '/health')).toEqual({});
    expect(matchPath('/health', '/health/')).toEqual({});
    expect(matchPath('/health', '/healthz')).toBeUndefined();
  });

  it('extracts and decodes parameters', () => {
    expect(matchPath('/api/v1/gdpr/subjects/{email}', '/api/v1/gdpr/subjects/a%40b.com')).toEqual({
      email: 'a@b.com',
    });
  });

  it('rejects a different depth and malformed escapes', () => {
    expect(matchPath('/api/v1/leads/{id}', '/api/v1/leads')).toBeUndefined();
    expect(matchPath('/api/v1/leads/{id}', '/api/v1/leads/%E0%A4%A')).toBeUndefined();
  });
});
