import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { bundleBudgetKb, SDK_SOURCE } from '../../contract/bundling';
import { GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY } from '../../contract/ghl';
import {
  COMMON_ENV_VARS,
  FUNCTIONS,
  type FunctionDefinition,
  functionDefinition,
  QUEUES,
  TABLES,
  tableDefinition,
} from '../../contract/resources';
import { ROUTES } from '../../contract/routes';
import { STAGE_SETTINGS } from '../../contract/stages';
import type { AdsEngineerStack } from '../../infra/stack';
import {
  asArray,
  buildStack,
  type CfnResource,
  type Json,
  logicalId,
  properties,
  referencedIds,
  resource,
  resources,
  type Statement,
  statementsOf,
  synthesize,
} from './build';

/**
 * The action sets of each access mode, spelled out in full on purpose, as the oracle of
 * infra/constructs/access.ts: written apart from its tables (not imported), so that a grant widened
 * or narrowed there fails here instead of being checked against itself.
 */
const READ = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const TABLE_MODES = {
  read: READ,
  write: WRITE,
  readWrite: [...READ, ...WRITE],
  counter: ['dynamodb:UpdateItem'],
  append: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
};
const QUEUE_MODES = {
  send: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
  // A consumer also sends to its own queue: delayed copies of waiting work, follow-ups
  // (request status reads, adjustments waiting for their conversion's upload).
  consume: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    'sqs:SendMessage',
  ],
  inspect: ['sqs:GetQueueAttributes'],
  redrive: ['sqs:SendMessage'],
  purge: [],
};
/** What each mode may do on the dead-letter queue. */
const DLQ_MODES = {
  send: [],
  consume: ['sqs:SendMessage'],
  inspect: ['sqs:GetQueueAttributes'],
  redrive: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ],
  purge: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
};
/** What the services ask KMS for on a function's behalf; its own calls add their purpose's actions. */
const KMS_THROUGH_SERVICES = ['kms:Decrypt', 'kms:GenerateDataKey'];
const KMS_OWN = { generate: 'kms:GenerateDataKey', decrypt: 'kms:Decrypt', encrypt: 'kms:Encrypt' } as const;
/** An exporting function scans every table, and writes (never reads) backup objects. */
const SCAN = ['dynamodb:Scan'];
const BACKUP_OBJECTS = ['s3:PutObject', 's3:AbortMultipartUpload'];
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

let dev: ReturnType<typeof synthesize>;
let prod: ReturnType<typeof synthesize>;

beforeAll(() => {
  dev = synthesize('dev', {}, { bundle: true });
  prod = synthesize('prod');
});

/** Every statement of every policy attached to the function's role, and the role itself. */
function roleOf(built: { stack: AdsEngineerStack; template: Template }, definition: FunctionDefinition) {
  const deployed = built.stack.functions.functions.get(definition.id);
  const roleId = logicalId(built.stack, deployed.role);
  const role: CfnResource = resource(built.template, roleId);
  const policies = Object.values(resources(built.template, 'AWS::IAM::Policy')).filter((policy) =>
    asArray(policy.Properties?.Roles).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })),
  );
  const inline = asArray(role.Properties?.Policies).map(
    (p) => (p as { PolicyDocument: Json }).PolicyDocument,
  );
  const documents = [...policies.map((p) => p.Properties?.PolicyDocument), ...inline];
  const statements = documents.flatMap((doc) => statementsOf(doc));
  return { roleId, role, statements, deployed };
}

function actionsOn(statements: Statement[], id: string): string[] {
  return statements.filter((s) => referencedIds(s.Resource).has(id)).flatMap((s) => asArray(s.Action));
}

describe.each(FUNCTIONS.map((f) => [f.id, f] as const))('function %s', (id, definition) => {
  test('runs nodejs24.x on arm64 with its memory, timeout and own log group', () => {
    const { stack, template } = dev;
    const deployed = stack.functions.functions.get(id);
    const fn = resources(template)[logicalId(stack, deployed.fn)];
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: definition.memoryMb,
      Timeout: definition.timeoutSeconds,
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, deployed.logGroup) } },
    });
    for (const [built, stage] of [
      [dev, 'dev'],
      [prod, 'prod'],
    ] as const) {
      const logGroup = resources(built.template)[
        logicalId(built.stack, built.stack.functions.functions.get(id).logGroup)
      ];
      expect(logGroup?.Properties?.RetentionInDays).toBe(STAGE_SETTINGS[stage].logRetentionDays);
    }
  });

  test('environment: stage, version, Powertools, and exactly its own tables and queues', () => {
    const { stack, template } = dev;
    const fn = properties(template, logicalId(stack, stack.functions.functions.get(id).fn));
    const variables = (fn.Environment as { Variables: Record<string, Json> }).Variables;
    expect(variables).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'adsengineer',
      POWERTOOLS_METRICS_NAMESPACE: 'AdsEngineer',
      POWERTOOLS_LOG_LEVEL: STAGE_SETTINGS.dev.logLevel,
      STAGE: 'dev',
      APP_VERSION: expect.stringMatching(/^\d+\.\d+\.\d+/),
      PLATFORM_ORG_ID: 'platform',
      [COMMON_ENV_VARS.kmsKeyId]: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
    });
    const exports = definition.backups === 'export';
    for (const table of TABLES) {
      const expected =
        definition.tables[table.id] || exports
          ? { Ref: logicalId(stack, stack.data.tables.get(table.id)) }
          : undefined;
      expect(variables[table.envVar]).toEqual(expected);
    }
    expect(variables[COMMON_ENV_VARS.backupKmsKeyId]).toEqual(
      definition.backups ? { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] } : undefined,
    );
    expect(variables[COMMON_ENV_VARS.backupBucket]).toEqual(
      exports ? { Ref: logicalId(stack, stack.storage.backupBucket) } : undefined,
    );
    for (const queue of QUEUES) {
      const pair = stack.queues.queues.get(queue.id);
      const has = definition.queues[queue.id] !== undefined;
      expect(variables[queue.envVar]).toEqual(has ? { Ref: logicalId(stack, pair.queue) } : undefined);
      expect(variables[queue.dlqEnvVar]).toEqual(has ? { Ref: logicalId(stack, pair.dlq) } : undefined);
    }
    expect(variables[COMMON_ENV_VARS.jwtSecretArn]).toEqual(
      definition.jwtSecret ? { Ref: logicalId(stack, stack.storage.jwtSecret) } : undefined,
    );
  });

  test('its own role: no managed policies, no wildcard action', () => {
    const { role, statements } = roleOf(dev, definition);
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties?.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
    }
    const others = FUNCTIONS.filter((f) => f.id !== id).map((f) => roleOf(dev, f).roleId);
    expect(others).not.toContain(roleOf(dev, definition).roleId);
  });

  test('its policy references only its log group, the CMK, its tables, its queues and its secret', () => {
    const { stack } = dev;
    const { statements, deployed } = roleOf(dev, definition);
    const referenced = new Set<string>();
    for (const statement of statements) referencedIds(statement.Resource, referenced);

    const expected = new Set<string>([logicalId(stack, deployed.logGroup), logicalId(stack, stack.keys.key)]);
    for (const tableId of Object.keys(definition.tables) as (keyof typeof definition.tables)[]) {
      expected.add(logicalId(stack, stack.data.tables.get(tableId)));
    }
    for (const [queueId, mode] of Object.entries(definition.queues) as [
      keyof typeof definition.queues,
      keyof typeof QUEUE_MODES,
    ][]) {
      const pair = stack.queues.queues.get(queueId);
      if (QUEUE_MODES[mode].length) expected.add(logicalId(stack, pair.queue));
      if (DLQ_MODES[mode].length) expected.add(logicalId(stack, pair.dlq));
    }
    if (definition.jwtSecret) expected.add(logicalId(stack, stack.storage.jwtSecret));
    if (definition.emailHashKey) expected.add(logicalId(stack, stack.storage.emailHashKey));
    if (definition.stripeWebhookSecret) expected.add(logicalId(stack, stack.storage.stripeWebhookSecret));
    if (definition.stripeApiKey) expected.add(logicalId(stack, stack.storage.stripeApiKey));
    if (definition.googleAdsDeveloperToken)
      expected.add(logicalId(stack, stack.storage.googleAdsDeveloperToken));
    if (definition.backups === 'export') {
      for (const table of TABLES) expected.add(logicalId(stack, stack.data.tables.get(table.id)));
      expected.add(logicalId(stack, stack.storage.backupBucket));
    }
    expect(sorted([...referenced])).toEqual(sorted([...expected]));
  });

  test('actions per resource follow the access mode in its definition', () => {
    const { stack } = dev;
    const { statements, deployed } = roleOf(dev, definition);
    expect(sorted(actionsOn(statements, logicalId(stack, deployed.logGroup)))).toEqual(sorted(LOGS));
    const own = (definition.kms ?? []).flatMap((use) => use.actions.map((action) => KMS_OWN[action]));
    expect(sorted(actionsOn(statements, logicalId(stack, stack.keys.key)))).toEqual(
      sorted([...KMS_THROUGH_SERVICES, ...own]),
    );
    for (const [tableId, mode] of Object.entries(definition.tables) as [
      keyof typeof definition.tables,
      keyof typeof TABLE_MODES,
    ][]) {
      const tableLogicalId = logicalId(stack, stack.data.tables.get(tableId));
      const scan = definition.backups === 'export' ? SCAN : [];
      expect(sorted(actionsOn(statements, tableLogicalId))).toEqual(sorted([...TABLE_MODES[mode], ...scan]));
      const resourcesOfTable = statements
        .filter((s) => referencedIds(s.Resource).has(tableLogicalId))
        .flatMap((s) => asArray(s.Resource));
      for (const index of tableDefinition(tableId).indexes) {
        expect(resourcesOfTable).toContainEqual({
          'Fn::Join': ['', [{ 'Fn::GetAtt': [tableLogicalId, 'Arn'] }, `/index/${index.name}`]],
        });
      }
      expect(JSON.stringify(resourcesOfTable)).not.toContain('index/*');
    }
    for (const [queueId, mode] of Object.entries(definition.queues) as [
      keyof typeof definition.queues,
      keyof typeof QUEUE_MODES,
    ][]) {
      const pair = stack.queues.queues.get(queueId);
      expect(sorted(actionsOn(statements, logicalId(stack, pair.queue)))).toEqual(sorted(QUEUE_MODES[mode]));
      expect(sorted(actionsOn(statements, logicalId(stack, pair.dlq)))).toEqual(sorted(DLQ_MODES[mode]));
    }
    if (definition.jwtSecret) {
      expect(actionsOn(statements, logicalId(stack, stack.storage.jwtSecret))).toEqual([
        'secretsmanager:GetSecretValue',
      ]);
    }
    if (definition.backups === 'export') {
      for (const table of TABLES.filter((t) => !definition.tables[t.id])) {
        expect(actionsOn(statements, logicalId(stack, stack.data.tables.get(table.id)))).toEqual(SCAN);
      }
      expect(sorted(actionsOn(statements, logicalId(stack, stack.storage.backupBucket)))).toEqual(
        sorted(BACKUP_OBJECTS),
      );
    }
  });
});

test('no policy attached to any function role has a wildcard action', () => {
  const roleIds = new Set(FUNCTIONS.map((f) => roleOf(dev, f).roleId));
  for (const policy of Object.values(resources(dev.template, 'AWS::IAM::Policy'))) {
    const attached = asArray(policy.Properties?.Roles).some((ref) =>
      roleIds.has((ref as { Ref: string }).Ref),
    );
    if (!attached) continue;
    const statements = statementsOf(policy.Properties?.PolicyDocument);
    for (const statement of statements) {
      for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
    }
  }
});

test('each queue with a consumer feeds it in batches with partial batch failures', () => {
  const consumed = QUEUES.filter((q) => q.consumer);
  dev.template.resourceCountIs('AWS::Lambda::EventSourceMapping', consumed.length);
  for (const queue of consumed) {
    const consumer = queue.consumer;
    if (!consumer) continue;
    dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(dev.stack, dev.stack.queues.queues.get(queue.id).queue), 'Arn'],
      },
      // The live alias, which CodeDeploy moves between versions.
      FunctionName: dev.stack.resolve(dev.stack.deployments.live.get(consumer.functionId).alias.functionName),
      BatchSize: consumer.batchSize,
      MaximumBatchingWindowInSeconds: consumer.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  }
});

test('every function is bundled by the local esbuild into a minified CJS file with a source map', () => {
  for (const definition of FUNCTIONS) {
    const fn = dev.stack.functions.functions.get(definition.id).fn;
    const code = (fn.node.defaultChild as lambda.CfnFunction).code as lambda.CfnFunction.CodeProperty;
    expect(code.s3Key).toMatch(/\.zip$/);
    const assetPath = fn.node
      .findAll()
      .map((c) => (c as { assetPath?: string }).assetPath)
      .find((p): p is string => typeof p === 'string');
    expect(assetPath).toBeDefined();
    const dir = path.join(dev.app.outdir, assetPath ?? '');
    expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
    expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    expect(statSync(path.join(dir, 'index.js')).size).toBeLessThan(
      bundleBudgetKb(definition.stripeApiKey === 'read', SDK_SOURCE[definition.id]) * 1024,
    );
  }
  dev.template.allResourcesProperties('AWS::Lambda::Function', {
    Code: { S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
  });
});

test('a function that reads files at run time has them next to its bundle, as committed', () => {
  const withFiles = FUNCTIONS.filter((f) => f.files?.length);
  expect(withFiles.map((f) => f.id)).toEqual(['api']);
  for (const definition of withFiles) {
    const fn = dev.stack.functions.functions.get(definition.id).fn;
    const assetPath = fn.node
      .findAll()
      .map((c) => (c as { assetPath?: string }).assetPath)
      .find((p): p is string => typeof p === 'string');
    for (const file of definition.files ?? []) {
      const copied = path.join(dev.app.outdir, assetPath ?? '', path.basename(file));
      expect(readFileSync(copied, 'utf8')).toBe(readFileSync(path.join(__dirname, '..', '..', file), 'utf8'));
    }
  }
});

describe('backups', () => {
  const exporters = FUNCTIONS.filter((f) => f.backups === 'export');
  const requesters = FUNCTIONS.filter((f) => f.backups === 'request');

  test('one function exports and the backup routes are served by one that requests', () => {
    expect(exporters.map((f) => f.id)).toEqual(['backupWorker']);
    const served = new Set(
      ROUTES.filter((r) => r.path.startsWith('/api/v1/admin/backups')).map((r) => r.functionId),
    );
    expect([...served]).toEqual(requesters.map((f) => f.id));
  });

  test('the exporter writes objects below backups/ only: no read, no list, no delete', () => {
    const { stack } = dev;
    const worker = exporters[0] as FunctionDefinition;
    const { statements } = roleOf(dev, worker);
    const bucketId = logicalId(stack, stack.storage.backupBucket);
    const onBucket = statements.filter((s) => referencedIds(s.Resource).has(bucketId));
    expect(onBucket).toEqual([
      expect.objectContaining({
        Action: sorted(BACKUP_OBJECTS),
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/backups/*']] },
      }),
    ]);
  });

  test('the exporter scans each table, not its indexes, in one statement', () => {
    const { stack } = dev;
    const { statements } = roleOf(dev, exporters[0] as FunctionDefinition);
    const scans = statements.filter((s) => asArray(s.Action).includes('dynamodb:Scan'));
    expect(scans).toHaveLength(1);
    expect(asArray(scans[0]?.Action)).toEqual(SCAN);
    const arns = (value: Json | undefined) => asArray(value).map((arn) => JSON.stringify(arn));
    expect(arns(scans[0]?.Resource).sort()).toEqual(
      TABLES.map((t) =>
        JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.data.tables.get(t.id)), 'Arn'] }),
      ).sort(),
    );
  });

  test('no other function may scan or touch the backup bucket', () => {
    const bucketId = logicalId(dev.stack, dev.stack.storage.backupBucket);
    for (const definition of FUNCTIONS.filter((f) => f.backups !== 'export')) {
      const { statements } = roleOf(dev, definition);
      for (const statement of statements) {
        expect(referencedIds(statement.Resource).has(bucketId)).toBe(false);
        expect(asArray(statement.Action)).not.toContain('dynamodb:Scan');
      }
    }
  });

  test('the admin function learns the backup key from the stack, so it never runs keyless in AWS', () => {
    const { stack, template } = prod;
    const fn = properties(template, logicalId(stack, stack.functions.functions.get('admin').fn));
    expect((fn.Environment as { Variables: Record<string, Json> }).Variables).toMatchObject({
      [COMMON_ENV_VARS.backupKmsKeyId]: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
      BACKUPS_QUEUE_URL: { Ref: logicalId(stack, stack.queues.queues.get('backups').queue) },
    });
  });
});

test('a consumer whose definition does not declare consume is refused at synth', () => {
  const worker = FUNCTIONS.find((f) => f.id === 'webhookWorker');
  if (!worker) throw new Error('no webhookWorker function');
  expect(() =>
    buildStack('dev', { definitions: { functions: [{ ...worker, queues: {} }], routes: [] } }),
  ).toThrow(/does not declare queues\.webhooks = 'consume'/);
});

describe('rate limits per stage', () => {
  test.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s gets the stage limits exactly when it uses the rate-limit counters',
    (_id, definition) => {
      const { stack, template } = prod;
      const fnId = logicalId(stack, stack.functions.functions.get(definition.id).fn);
      const env =
        (resource(template, fnId).Properties?.Environment as { Variables?: Record<string, Json> } | undefined)
          ?.Variables ?? {};
      const limits = STAGE_SETTINGS.prod.rateLimits;
      if (definition.tables.rateLimits) {
        expect(definition.tables.rateLimits).toBe('counter');
        expect(env).toMatchObject({
          RATE_LIMIT_IP_PER_HOUR: String(limits.ip),
          RATE_LIMIT_SHOP_PER_HOUR: String(limits.source),
          RATE_LIMIT_TENANT_PER_HOUR: String(limits.tenant),
        });
      } else {
        expect(env.RATE_LIMIT_IP_PER_HOUR).toBeUndefined();
      }
    },
  );
});

test('each queue consumer runs at most its maximum concurrency, and ingest keeps its reserved concurrency', () => {
  for (const queue of QUEUES) {
    if (!queue.consumer) continue;
    // The mapping of the queue, whichever of the function's versions (alias) it invokes.
    const mappings = dev.template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { EventSourceArn: dev.stack.resolve(dev.stack.queues.queues.get(queue.id).queue.queueArn) },
    });
    expect(Object.values(mappings).map((m) => m.Properties.ScalingConfig)).toEqual([
      { MaximumConcurrency: queue.consumer.maxConcurrency },
    ]);
  }
  const ingest = dev.stack.functions.functions.get('ingest').fn;
  const cfn = ingest.node.defaultChild as lambda.CfnFunction;
  expect(cfn.reservedConcurrentExecutions).toBe(functionDefinition('ingest').reservedConcurrency);
  const worker = dev.stack.functions.functions.get('webhookWorker').fn.node
    .defaultChild as lambda.CfnFunction;
  expect(worker.reservedConcurrentExecutions).toBeUndefined();
});

describe("HighLevel's webhook key", () => {
  const envOf = (built: ReturnType<typeof synthesize>, id: FunctionDefinition['id']) =>
    (
      resource(built.template, logicalId(built.stack, built.stack.functions.functions.get(id).fn)).Properties
        ?.Environment as { Variables?: Record<string, Json> } | undefined
    )?.Variables ?? {};

  test('the ingest function verifies X-GHL-Signature with the Ed25519 key HighLevel publishes by default', () => {
    const key = createPublicKey({
      key: Buffer.from(GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(key.asymmetricKeyType).toBe('ed25519');
    for (const built of [dev, prod]) {
      expect(envOf(built, 'ingest').GHL_WEBHOOK_PUBLIC_KEY).toBe(GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY);
      for (const definition of FUNCTIONS.filter((f) => f.id !== 'ingest')) {
        expect(envOf(built, definition.id).GHL_WEBHOOK_PUBLIC_KEY).toBeUndefined();
      }
    }
  });

  test('the deploy context ghlWebhookPublicKey replaces it', () => {
    const rotated = `MCowBQYDK2VwAyEA${Buffer.alloc(32, 7).toString('base64')}`;
    const built = synthesize('staging', { ghlWebhookPublicKey: rotated });
    expect(envOf(built, 'ingest').GHL_WEBHOOK_PUBLIC_KEY).toBe(rotated);
  });
});
