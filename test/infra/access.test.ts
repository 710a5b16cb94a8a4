import {
  BACKUP_ROUTE_PREFIX,
  functionAccess,
  QUEUE_ACTIONS,
  TABLE_ACTIONS,
} from '../../lib/constructs/access';
import { FUNCTIONS, type FunctionDefinition } from '../../lib/definitions/resources';
import { ROUTES, type RouteDefinition } from '../../lib/definitions/routes';

const base: FunctionDefinition = {
  id: 'admin',
  entry: 'functions/admin/handler.ts',
  description: 'test variant',
  memoryMb: 128,
  timeoutSeconds: 3,
  tables: { tenants: 'read', leads: 'write', audit: 'readWrite' },
  queues: { webhooks: 'send', conversions: 'inspect' },
};

const route = (extra: Partial<RouteDefinition>): RouteDefinition => ({
  method: 'GET',
  path: '/api/v1/x',
  functionId: 'admin',
  auth: 'none',
  summary: 'test route',
  ...extra,
});

describe('functionAccess', () => {
  test('maps each table mode to its actions, readWrite to both', () => {
    const access = functionAccess(base, []);
    expect(access.tables).toEqual([
      { table: 'tenants', actions: TABLE_ACTIONS.read },
      { table: 'leads', actions: TABLE_ACTIONS.write },
      { table: 'audit', actions: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write] },
    ]);
  });

  test('maps each queue mode to its actions; only inspect reaches the DLQ', () => {
    const access = functionAccess(base, []);
    expect(access.queues).toEqual([
      { queue: 'webhooks', actions: QUEUE_ACTIONS.send, includeDlq: false },
      { queue: 'conversions', actions: QUEUE_ACTIONS.inspect, includeDlq: true },
    ]);
  });

  test('no action set contains a wildcard', () => {
    const all = [...Object.values(TABLE_ACTIONS), ...Object.values(QUEUE_ACTIONS)].flat();
    for (const action of all) expect(action).not.toContain('*');
  });

  test('the JWT secret follows the definition', () => {
    expect(functionAccess(base, []).jwtSecret).toBe(false);
    expect(functionAccess({ ...base, jwtSecret: 'read' }, []).jwtSecret).toBe(true);
  });

  test.each(['jwt', 'apiKey', 'platformAdmin'] as const)(
    'a %s route without jwtSecret in the definition is refused',
    (auth) => {
      expect(() => functionAccess(base, [route({ auth })])).toThrow(/lacks jwtSecret: 'read'/);
    },
  );

  test('public and signature routes need no JWT secret', () => {
    const limited = { ...base, tables: { ...base.tables, rateLimits: 'counter' as const } };
    expect(() =>
      functionAccess(limited, [route({ auth: 'none' }), route({ auth: 'signature' })]),
    ).not.toThrow();
  });

  test('a function serving /api/v1 routes must declare the rate-limit counters', () => {
    expect(() => functionAccess(base, [route({ auth: 'none' })])).toThrow(
      /lacks tables.rateLimits: 'counter'/,
    );
    expect(() => functionAccess(base, [route({ auth: 'none', path: '/health' })])).not.toThrow();
    const limited = { ...base, tables: { rateLimits: 'counter' as const } };
    expect(functionAccess(limited, [route({ auth: 'none' })]).tables).toEqual([
      { table: 'rateLimits', actions: ['dynamodb:UpdateItem'] },
    ]);
  });

  test('backup access comes with routes under the backup prefix, of this function only', () => {
    const limited = { ...base, tables: { ...base.tables, rateLimits: 'counter' as const } };
    expect(functionAccess(limited, [route({ path: BACKUP_ROUTE_PREFIX })]).backups).toBe(true);
    expect(functionAccess(limited, [route({ path: `${BACKUP_ROUTE_PREFIX}/{id}` })]).backups).toBe(true);
    expect(functionAccess(limited, [route({ path: BACKUP_ROUTE_PREFIX, functionId: 'api' })]).backups).toBe(
      false,
    );
    expect(functionAccess(limited, [route({ path: '/api/v1/admin/tenants' })]).backups).toBe(false);
  });

  test('every shared function definition agrees with the shared route table', () => {
    for (const definition of FUNCTIONS) expect(() => functionAccess(definition, ROUTES)).not.toThrow();
  });
});
