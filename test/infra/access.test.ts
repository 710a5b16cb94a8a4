import { FUNCTIONS, type FunctionDefinition, TABLES } from '../../contract/resources';
import { ROUTES, type RouteDefinition } from '../../contract/routes';
import {
  BACKUP_EXPORT_ACTIONS,
  BACKUP_ROUTE_PREFIX,
  DLQ_ACTIONS,
  EXPORT_TABLE_ACTIONS,
  functionAccess,
  QUEUE_ACTIONS,
  TABLE_ACTIONS,
} from '../../infra/constructs/access';

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

  test('maps each queue mode to its actions on the queue and on its dead-letter queue', () => {
    const access = functionAccess(base, []);
    expect(access.queues).toEqual([
      { queue: 'webhooks', actions: QUEUE_ACTIONS.send, dlqActions: [] },
      { queue: 'conversions', actions: QUEUE_ACTIONS.inspect, dlqActions: ['sqs:GetQueueAttributes'] },
    ]);
    const consumer = functionAccess({ ...base, queues: { webhooks: 'consume', conversions: 'redrive' } }, []);
    expect(consumer.queues).toEqual([
      { queue: 'webhooks', actions: QUEUE_ACTIONS.consume, dlqActions: ['sqs:SendMessage'] },
      { queue: 'conversions', actions: ['sqs:SendMessage'], dlqActions: DLQ_ACTIONS.redrive },
    ]);
  });

  test('no action set contains a wildcard', () => {
    const all = [
      ...Object.values(TABLE_ACTIONS),
      ...Object.values(QUEUE_ACTIONS),
      EXPORT_TABLE_ACTIONS,
      BACKUP_EXPORT_ACTIONS,
    ].flat();
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

  test.each(['jwt', 'apiKey', 'platformAdmin'] as const)(
    'a %s route without read access to the tenants table is refused: tokens are judged against their tenant',
    (auth) => {
      const { tenants: _tenants, ...tables } = base.tables;
      expect(() => functionAccess({ ...base, jwtSecret: 'read', tables }, [route({ auth })])).toThrow(
        /lacks tables.tenants: 'read'/,
      );
      expect(() =>
        functionAccess({ ...base, jwtSecret: 'read', tables: { ...tables, tenants: 'write' } }, [
          route({ auth }),
        ]),
      ).toThrow(/lacks tables.tenants: 'read'/);
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

  test('backup access follows the definition: request, or export with a scan of every table', () => {
    const limited = { ...base, tables: { ...base.tables, rateLimits: 'counter' as const } };
    expect(functionAccess(limited, []).backups).toBeUndefined();
    expect(functionAccess(limited, []).exportTables).toEqual([]);
    const requester = functionAccess({ ...limited, backups: 'request' }, []);
    expect(requester.backups).toBe('request');
    expect(requester.exportTables).toEqual([]);
    const exporter = functionAccess({ ...limited, backups: 'export' }, []);
    expect(exporter.backups).toBe('export');
    expect(exporter.exportTables).toEqual(TABLES.map((t) => t.id));
    expect(EXPORT_TABLE_ACTIONS).toEqual(['dynamodb:Scan']);
    expect(BACKUP_EXPORT_ACTIONS).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
  });

  test('a function serving backup routes must declare backups', () => {
    const limited = {
      ...base,
      tables: { ...base.tables, rateLimits: 'counter' as const },
      jwtSecret: 'read' as const,
    };
    for (const path of [BACKUP_ROUTE_PREFIX, `${BACKUP_ROUTE_PREFIX}/{id}`]) {
      expect(() => functionAccess(limited, [route({ path, auth: 'platformAdmin' })])).toThrow(
        /lacks backups: 'request'/,
      );
      expect(() =>
        functionAccess({ ...limited, backups: 'request' }, [route({ path, auth: 'platformAdmin' })]),
      ).not.toThrow();
    }
    // Another function's backup routes are not this one's concern.
    expect(() =>
      functionAccess(limited, [route({ path: BACKUP_ROUTE_PREFIX, functionId: 'api' })]),
    ).not.toThrow();
  });

  test('every shared function definition agrees with the shared route table', () => {
    for (const definition of FUNCTIONS) expect(() => functionAccess(definition, ROUTES)).not.toThrow();
  });
});
