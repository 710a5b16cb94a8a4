import {
  FUNCTIONS,
  functionDefinition,
  QUEUES,
  queueDefinition,
  TABLES,
  tableDefinition,
  VISIBILITY_TIMEOUT_FACTOR,
  visibilityTimeoutSeconds,
} from '../../contract/resources';
import { parseStage, STAGE_SETTINGS } from '../../contract/stages';

describe('resource definitions', () => {
  it('sizes a consumed queue visibility timeout to its consumer', () => {
    const webhooks = queueDefinition('webhooks');
    const consumer = functionDefinition('webhookWorker');
    expect(visibilityTimeoutSeconds(webhooks)).toBe(consumer.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR);
    const conversions = queueDefinition('conversions');
    expect(visibilityTimeoutSeconds(conversions)).toBe(
      functionDefinition('conversionUploader').timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR,
    );
    const unconsumed = { ...conversions, consumer: undefined };
    expect(visibilityTimeoutSeconds(unconsumed)).toBe(
      conversions.consumerTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR,
    );
  });

  it('gives every queue a dead-letter queue after 3 receives', () => {
    for (const queue of QUEUES) expect(queue.maxReceiveCount).toBe(3);
  });

  it('uses unique environment variable names', () => {
    const names = [...TABLES.map((t) => t.envVar), ...QUEUES.flatMap((q) => [q.envVar, q.dlqEnvVar])];
    expect(new Set(names).size).toBe(names.length);
  });

  it('only grants functions access to declared resources', () => {
    const tables = new Set(TABLES.map((t) => t.id));
    const queues = new Set(QUEUES.map((q) => q.id));
    for (const fn of FUNCTIONS) {
      for (const t of Object.keys(fn.tables)) expect(tables.has(t as never)).toBe(true);
      for (const q of Object.keys(fn.queues)) expect(queues.has(q as never)).toBe(true);
    }
  });

  it('throws on unknown ids', () => {
    expect(() => functionDefinition('nope' as never)).toThrow('Unknown function');
    expect(() => tableDefinition('nope' as never)).toThrow('Unknown table');
    expect(() => queueDefinition('nope' as never)).toThrow('Unknown queue');
    expect(tableDefinition('rateLimits').ttlAttribute).toBe('expires_at');
  });
});

describe('stages', () => {
  it('parses known stages and refuses others', () => {
    expect(parseStage('prod')).toBe('prod');
    expect(() => parseStage('production')).toThrow('Unknown stage "production"');
    expect(() => parseStage(undefined)).toThrow('Unknown stage');
  });

  it('protects data outside dev', () => {
    expect(STAGE_SETTINGS.dev.protectData).toBe(false);
    expect(STAGE_SETTINGS.staging.protectData).toBe(true);
    expect(STAGE_SETTINGS.prod.protectData).toBe(true);
  });
});
