import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics emitter per function, as Powertools recommends. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'adsengineer',
  persistentKeys: { stage: process.env.STAGE ?? 'dev' },
});

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'AdsEngineer',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'adsengineer',
  defaultDimensions: { stage: process.env.STAGE ?? 'dev' },
});
