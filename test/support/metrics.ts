import { metrics } from '../../functions/shared/platform/observability';

export interface EmittedMetric {
  name: string;
  value: number;
  dimensions: Record<string, string>;
}

/**
 * Records the metrics emitted on a line of their own (`metrics.singleMetric()`, the dimensioned
 * ones) instead of printing them. Undo with the returned spy's `mockRestore()` or
 * `jest.restoreAllMocks()`.
 */
export function captureSingleMetrics(): { emitted: EmittedMetric[]; spy: jest.SpyInstance } {
  const emitted: EmittedMetric[] = [];
  const spy = jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    return {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
      },
      addMetric: (name: string, _unit: string, value: number) => {
        emitted.push({ name, value, dimensions });
      },
      publishStoredMetrics: () => undefined,
    } as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  return { emitted, spy };
}
