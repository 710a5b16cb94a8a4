/**
 * The data key in the function policies: through the services that encrypt tables, queues,
 * secrets and backup objects, and directly only under an encryption-context condition naming the
 * function's own purpose. No function but those that need them can open tenant credentials.
 */
import { CREDENTIAL_NAMES, FUNCTIONS, type FunctionId, KMS_PURPOSES } from '../../contract/resources';
import {
  asArray,
  type Json,
  logicalId,
  referencedIds,
  rolePolicyStatements,
  type Statement,
  synthesize,
} from './build';

let prod: ReturnType<typeof synthesize>;

beforeAll(() => {
  prod = synthesize('prod');
});

/** The statements of a function's role that name the data key. */
function keyStatements(id: FunctionId): Statement[] {
  const keyId = logicalId(prod.stack, prod.stack.keys.key);
  return rolePolicyStatements(prod, id).filter((statement) => referencedIds(statement.Resource).has(keyId));
}

const conditionsOf = (statement: Statement) =>
  (statement as { Condition?: Record<string, Record<string, Json>> }).Condition ?? {};

/** Whether a statement lets a function's own call (no service in between) use `action` under `context`. */
function allowsDirect(statement: Statement, action: string, context: Record<string, string>): boolean {
  if (!asArray(statement.Action).includes(action)) return false;
  const conditions = conditionsOf(statement);
  if (!('Null' in conditions) && conditions.StringEquals?.['kms:ViaService'] !== undefined) return false;
  for (const [key, expected] of Object.entries(conditions.StringEquals ?? {})) {
    const name = key.replace(/^kms:EncryptionContext:/, '');
    if (name === key) continue;
    if (!asArray(expected).includes(context[name] as Json)) return false;
  }
  return true;
}

const credential = (name: string) => ({ purpose: KMS_PURPOSES.credential, tenant_id: 'ten_x', name });

describe.each(FUNCTIONS.map((f) => [f.id, f] as const))('function %s and the data key', (id, definition) => {
  test('every statement on the key carries a condition: a service in between, or its own context', () => {
    const statements = keyStatements(id);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const conditions = conditionsOf(statement);
      const throughService = conditions.StringEquals?.['kms:ViaService'];
      const purpose = conditions.StringEquals?.['kms:EncryptionContext:purpose'];
      expect(throughService !== undefined || purpose !== undefined).toBe(true);
      if (purpose !== undefined) expect(conditions.Null).toEqual({ 'kms:ViaService': 'true' });
      expect(asArray(statement.Action)).not.toContain('kms:DescribeKey');
    }
  });

  test('its own purposes are exactly those of its definition', () => {
    const purposes = keyStatements(id)
      .map((statement) => conditionsOf(statement).StringEquals?.['kms:EncryptionContext:purpose'])
      .filter((p) => p !== undefined);
    expect([...new Set(purposes)].sort()).toEqual(
      [...new Set((definition.kms ?? []).map((u) => u.purpose))].sort(),
    );
  });
});

test('only the API, ingest and the uploader can open tenant credentials, each only the ones it needs', () => {
  const opens = (id: FunctionId, name: string) =>
    keyStatements(id).some((statement) => allowsDirect(statement, 'kms:Decrypt', credential(name)));
  const openers: Record<string, string[]> = {};
  for (const f of FUNCTIONS) {
    const names = Object.values(CREDENTIAL_NAMES).filter((name) => opens(f.id, name));
    if (names.length) openers[f.id] = names.sort();
  }
  expect(openers).toEqual({
    api: [CREDENTIAL_NAMES.googleAdsClientSecret],
    ingest: [CREDENTIAL_NAMES.shopifyWebhookSecret, CREDENTIAL_NAMES.wooCommerceWebhookSecret].sort(),
    conversionUploader: [
      CREDENTIAL_NAMES.googleAdsClientSecret,
      CREDENTIAL_NAMES.googleAdsRefreshToken,
      CREDENTIAL_NAMES.metaAccessToken,
    ].sort(),
  });
  // Sealing (a new data key under a credential context) is the API's alone.
  const sealers = FUNCTIONS.filter((f) =>
    keyStatements(f.id).some((s) =>
      allowsDirect(s, 'kms:GenerateDataKey', credential(CREDENTIAL_NAMES.metaAccessToken)),
    ),
  ).map((f) => f.id);
  expect(sealers).toEqual(['api']);
});

test("health's probe and backups each reach the key only under their own purpose", () => {
  const health = { purpose: KMS_PURPOSES.health, probe: 'encryption' };
  const backup = { purpose: KMS_PURPOSES.backup, scope: 'bkp_1' };
  const can = (id: FunctionId, action: string, context: Record<string, string>) =>
    keyStatements(id).some((s) => allowsDirect(s, action, context));
  expect(FUNCTIONS.filter((f) => can(f.id, 'kms:Encrypt', health)).map((f) => f.id)).toEqual(['health']);
  expect(FUNCTIONS.filter((f) => can(f.id, 'kms:GenerateDataKey', backup)).map((f) => f.id)).toEqual([
    'backupWorker',
  ]);
  // Health cannot open a credential, nor the backup worker.
  expect(can('health', 'kms:Decrypt', credential(CREDENTIAL_NAMES.metaAccessToken))).toBe(false);
  expect(can('backupWorker', 'kms:Decrypt', credential(CREDENTIAL_NAMES.metaAccessToken))).toBe(false);
});

test('through services: the regional endpoints of the services each function uses', () => {
  const services = (id: FunctionId) =>
    keyStatements(id)
      .map((statement) => conditionsOf(statement).StringEquals?.['kms:ViaService'])
      .filter((v) => v !== undefined)
      .flatMap((v) => asArray(v))
      .map((v) => JSON.stringify(v).match(/(dynamodb|sqs|secretsmanager|s3)\./)?.[1]);
  expect(services('backupWorker').sort()).toEqual(['dynamodb', 's3', 'sqs']);
  expect(services('health').sort()).toEqual(['dynamodb']);
  expect(services('ingest').sort()).toEqual(['dynamodb', 'secretsmanager', 'sqs']);
});
