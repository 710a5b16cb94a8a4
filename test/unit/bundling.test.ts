import {
  AWS_SDK_ALLOWANCE_KB,
  BUNDLE_BUDGET_KB,
  BUNDLING,
  bundleBudgetKb,
  esbuildOptions,
  SDK_SOURCE,
  STRIPE_SDK_ALLOWANCE_KB,
} from '../../contract/bundling';
import { FUNCTIONS } from '../../contract/resources';

describe('bundling per SDK source', () => {
  it('leaves the SDK to the runtime, or bundles it with ES module builds first', () => {
    expect(esbuildOptions('runtime')).toEqual({
      externalModules: [...BUNDLING.externalModules],
      mainFields: ['main', 'module'],
    });
    expect(esbuildOptions('bundled')).toEqual({ externalModules: [], mainFields: ['module', 'main'] });
  });

  it('names an SDK source for every function, and allows a bundled SDK its measured size', () => {
    expect(Object.keys(SDK_SOURCE).sort()).toEqual(FUNCTIONS.map((f) => f.id).sort());
    expect(bundleBudgetKb(false)).toBe(BUNDLE_BUDGET_KB);
    expect(bundleBudgetKb(true, 'runtime')).toBe(BUNDLE_BUDGET_KB + STRIPE_SDK_ALLOWANCE_KB);
    expect(bundleBudgetKb(false, 'bundled')).toBe(BUNDLE_BUDGET_KB + AWS_SDK_ALLOWANCE_KB);
    expect(bundleBudgetKb(true, 'bundled')).toBe(
      BUNDLE_BUDGET_KB + STRIPE_SDK_ALLOWANCE_KB + AWS_SDK_ALLOWANCE_KB,
    );
  });
});
