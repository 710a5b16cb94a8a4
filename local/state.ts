import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lambda';

/**
 * Where a running local stack says how to reach it, so operator commands run with `--local`
 * find its emulator and resources. Holds names and URLs only, never a secret value.
 */
export const STATE_FILE = path.join(REPO_ROOT, '.local', 'stack.json');

export interface LocalState {
  url: string;
  pid: number;
  env: Record<string, string>;
}

const SECRET_NAMES = new Set(['JWT_SECRET', 'AWS_SECRET_ACCESS_KEY']);

export function writeState(state: LocalState, file = STATE_FILE): void {
  const env = Object.fromEntries(Object.entries(state.env).filter(([name]) => !SECRET_NAMES.has(name)));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...state, env }, null, 2)}\n`, { mode: 0o600 });
}

export function readState(file = STATE_FILE): LocalState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

export function clearState(file = STATE_FILE): void {
  rmSync(file, { force: true });
}
