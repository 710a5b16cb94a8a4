import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREDENTIAL_NAMES, FUNCTIONS, KMS_PURPOSES } from '../../contract/resources';
import { BACKUP_PURPOSE } from '../../functions/shared/features/backup/rules/format';
import { CREDENTIAL_PURPOSE } from '../../functions/shared/platform/crypto/credentials';
import {
  CLIENT_SECRET_NAME,
  REFRESH_TOKEN_NAME,
} from '../../functions/shared/providers/google-ads/integration';
import { ACCESS_TOKEN_NAME } from '../../functions/shared/providers/meta/integration';

const ROOT = join(__dirname, '..', '..');
const CONSTANTS: Record<string, string> = { CLIENT_SECRET_NAME, REFRESH_TOKEN_NAME, ACCESS_TOKEN_NAME };

/** The credential names each function's code seals and opens, read from its sources. */
function credentialCalls(dir: string): { seal: Set<string>; open: Set<string> } {
  const seal = new Set<string>();
  const open = new Set<string>();
  for (const file of readdirSync(join(ROOT, dir))) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(ROOT, dir, file), 'utf8');
    for (const match of text.matchAll(
      /(seal|open)Credential\(\s*(?:[^,()]*\([^()]*\)|[^,()]+)\s*,\s*([^,]+),/g,
    )) {
      const arg = (match[2] as string).trim();
      const names = arg.startsWith("'")
        ? [arg.slice(1, -1)]
        : arg === 'name'
          ? // A name looked up in a table of the file: every catalogued name the file mentions.
            [...text.matchAll(/CREDENTIAL_NAMES\.(\w+)/g)].map(
              (m) => CREDENTIAL_NAMES[m[1] as keyof typeof CREDENTIAL_NAMES] ?? `unknown ${m[1]}`,
            )
          : [CONSTANTS[arg] ?? `unknown ${arg}`];
      for (const name of names) (match[1] === 'seal' ? seal : open).add(name);
    }
  }
  return { seal, open };
}

describe('KMS purposes and credential names', () => {
  it('the code seals under the purposes the IAM conditions name', () => {
    expect(CREDENTIAL_PURPOSE).toBe(KMS_PURPOSES.credential);
    expect(BACKUP_PURPOSE).toBe(KMS_PURPOSES.backup);
    expect(Object.values(CREDENTIAL_NAMES)).toEqual(
      expect.arrayContaining([CLIENT_SECRET_NAME, REFRESH_TOKEN_NAME, ACCESS_TOKEN_NAME]),
    );
  });

  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: its definition grants exactly the credentials its code seals and opens',
    (_, definition) => {
      const calls = credentialCalls(definition.entry.replace(/\/handler\.ts$/, ''));
      const granted = (action: 'generate' | 'decrypt') =>
        new Set(
          (definition.kms ?? [])
            .filter((use) => use.purpose === KMS_PURPOSES.credential && use.actions.includes(action))
            .flatMap((use) => use.names ?? []),
        );
      expect([...calls.open].sort()).toEqual([...granted('decrypt')].sort());
      // Sealing: every name it seals is granted (the API grants all it may ever connect).
      for (const name of calls.seal) expect(granted('generate').has(name as never)).toBe(true);
    },
  );
});
