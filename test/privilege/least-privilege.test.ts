/**
 * Least privilege, proven before the first deploy: the e2e tier ran the local stack with
 * AWS_CALL_RECORD_DIR set, so every AWS call each function made is on record (action, resource,
 * KMS encryption context). Each call is replayed here against its function's role in the
 * synthesized prod template, wildcards and KMS conditions included: a call the role would refuse
 * fails the test by function, action and resource. Permissions no recorded call used are listed
 * (coverage/least-privilege-unused.txt) as candidates to remove.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS } from '../../contract/resources';
import { synthesize } from '../infra/build';
import { AWS_CALLS_DIR, permissionsOf, readRecord, replay } from '../support/policy-replay';

const dir = process.env.AWS_CALL_RECORD_DIR ?? AWS_CALLS_DIR;
const calls = readRecord(dir);
const prod = synthesize('prod');
const result = replay(
  calls,
  (id) => permissionsOf(prod.stack, prod.template, id),
  FUNCTIONS.map((f) => f.id),
);

test('the e2e suite left a record of every function', () => {
  const recorded = new Set(calls.map((c) => c.function));
  expect(FUNCTIONS.map((f) => f.id).filter((id) => !recorded.has(id))).toEqual([]);
});

test('every recorded call is allowed by its function role in the prod template', () => {
  expect(result.refused).toEqual([]);
});

// Not a check: the list of candidates to remove, for a reviewer.
afterAll(() => {
  const out = path.resolve(dir, '..', 'least-privilege-unused.txt');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${result.unused.join('\n')}\n`);
  process.stdout.write(
    `\n== permissions no e2e call used (${result.unused.length}), in ${out}:\n${result.unused.join('\n')}\n`,
  );
});
