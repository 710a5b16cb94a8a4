type Thresholds = { lines: number; statements: number; functions: number; branches: number };
export const TIER_THRESHOLDS: { unit: Thresholds; integration: Thresholds };
export const SECURITY_CRITICAL: { minimum: number; paths: string[] };
export const IO_IMPORT: RegExp;
export function domainModules(root: string): string[];
export function securityCriticalFailures(summaries: Record<string, Record<string, number>>): string[];
