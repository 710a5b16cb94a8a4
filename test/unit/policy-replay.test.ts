import { callsOf } from '../../functions/shared/platform/aws/recording';
import { allows, iamAction, type Permission, replay } from '../support/policy-replay';

const credentialOpen: Permission = {
  sid: 'DataKeyCredential0',
  action: 'kms:Decrypt',
  resource: 'key:data',
  condition: {
    StringEquals: {
      'kms:EncryptionContext:purpose': 'credential',
      'kms:EncryptionContext:name': ['meta.access_token'],
    },
    Null: { 'kms:ViaService': 'true' },
  },
};
const throughSqs: Permission = {
  sid: 'DataKeyThroughServices',
  action: 'kms:Decrypt',
  resource: 'key:data',
  condition: { StringEquals: { 'kms:ViaService': ['sqs.eu-west-1.amazonaws.com'] } },
};
const leadsIndexes: Permission = {
  sid: 'TableLeads',
  action: 'dynamodb:Query',
  resource: 'table:leads/index/*',
  condition: {},
};
const backups: Permission = {
  sid: 'BackupObjects',
  action: 's3:PutObject',
  resource: 'bucket:backup/backups/*',
  condition: {},
};

describe('replaying recorded calls against a role', () => {
  it('honours encryption-context conditions and refuses direct calls on a via-service grant', () => {
    const open = (name: string) => ({
      function: 'conversionUploader',
      action: 'kms:Decrypt',
      resource: 'key:data',
      context: { purpose: 'credential', tenant_id: 't', name },
    });
    expect(allows(credentialOpen, open('meta.access_token'))).toBe(true);
    expect(allows(credentialOpen, open('google_ads.refresh_token'))).toBe(false);
    expect(allows(credentialOpen, { ...open('meta.access_token'), context: undefined } as never)).toBe(false);
    expect(allows(throughSqs, open('meta.access_token'))).toBe(false);
  });

  it('matches resource wildcards and maps SDK operations to their IAM action', () => {
    expect(iamAction('s3:UploadPart')).toBe('s3:PutObject');
    expect(
      allows(backups, {
        function: 'backupWorker',
        action: 's3:UploadPart',
        resource: 'bucket:backup/backups/2026/x.aebk',
      }),
    ).toBe(true);
    expect(
      allows(backups, { function: 'backupWorker', action: 's3:PutObject', resource: 'bucket:backup/other' }),
    ).toBe(false);
    expect(
      allows(leadsIndexes, {
        function: 'leads',
        action: 'dynamodb:Query',
        resource: 'table:leads/index/gsi1',
      }),
    ).toBe(true);
    expect(
      allows(leadsIndexes, { function: 'leads', action: 'dynamodb:Query', resource: 'table:leads' }),
    ).toBe(false);
  });

  it('names refused calls and unused permissions by function', () => {
    const result = replay(
      [
        { function: 'leads', action: 'dynamodb:Query', resource: 'table:leads/index/gsi1' },
        { function: 'leads', action: 'dynamodb:Scan', resource: 'table:leads' },
      ],
      (id) => (id === 'leads' ? [leadsIndexes, backups, throughSqs] : []),
      ['leads'],
    );
    expect(result.refused).toEqual(['leads dynamodb:Scan table:leads']);
    // The via-service grant is the services' use of the key: not observable, not listed.
    expect(result.unused).toEqual(['leads s3:PutObject bucket:backup/backups/* [BackupObjects]']);
  });
});

describe('what a recorded command stands for', () => {
  const env = {
    LEADS_TABLE: 'x-leads',
    AUDIT_TABLE: 'x-audit',
    WEBHOOKS_DLQ_URL: 'http://q/1/x-webhooks-dlq',
  };
  beforeAll(() => Object.assign(process.env, env));
  afterAll(() => {
    for (const key of Object.keys(env)) delete process.env[key];
  });

  it('a transaction is one call per item; a batch one per table; an index its own resource', () => {
    expect(
      callsOf('dynamodb', 'TransactWriteItemsCommand', {
        TransactItems: [{ Put: { TableName: 'x-leads' } }, { ConditionCheck: { TableName: 'x-audit' } }],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: 'table:leads' },
      { action: 'dynamodb:ConditionCheckItem', resource: 'table:audit' },
    ]);
    expect(callsOf('dynamodb', 'BatchWriteItemCommand', { RequestItems: { 'x-leads': [] } })).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: 'table:leads' },
    ]);
    expect(callsOf('dynamodb', 'QueryCommand', { TableName: 'x-leads', IndexName: 'gsi1' })).toEqual([
      { action: 'dynamodb:Query', resource: 'table:leads/index/gsi1' },
    ]);
    expect(callsOf('sqs', 'ReceiveMessageCommand', { QueueUrl: 'http://q/1/x-webhooks-dlq' })).toEqual([
      { action: 'sqs:ReceiveMessage', resource: 'dlq:webhooks' },
    ]);
    expect(
      callsOf('kms', 'DecryptCommand', { KeyId: 'nope', EncryptionContext: { purpose: 'health' } }),
    ).toEqual([{ action: 'kms:Decrypt', resource: 'key:unknown(nope)', context: { purpose: 'health' } }]);
  });
});
