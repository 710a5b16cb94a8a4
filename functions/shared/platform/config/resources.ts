import {
  COMMON_ENV_VARS,
  type QueueId,
  queueDefinition,
  type TableId,
  tableDefinition,
} from '../../../../contract/resources';
import { parseStage, type Stage } from '../../../../contract/stages';

/** A required setting is missing or malformed: the function cannot serve safely. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new ConfigurationError(`${name} is not set`);
  return value;
}

export function stage(): Stage {
  return parseStage(process.env[COMMON_ENV_VARS.stage] ?? 'dev');
}

export function tableName(id: TableId): string {
  return requireEnv(tableDefinition(id).envVar);
}

export function queueUrl(id: QueueId): string {
  return requireEnv(queueDefinition(id).envVar);
}

export function dlqUrl(id: QueueId): string {
  return requireEnv(queueDefinition(id).dlqEnvVar);
}

export function appVersion(): string {
  return process.env.APP_VERSION ?? '0.0.0';
}
