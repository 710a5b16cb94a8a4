import type { Role } from '../../contract/routes';
import { loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { request } from './http';

export async function tokenFor(org: string, role: Role, ttl = 600): Promise<string> {
  return signToken(await loadKeyring(), { sub: `user:${org}:${role}`, org_id: org, role }, ttl);
}

export interface TestTenant {
  id: string;
  owner: string;
  admin: string;
  member: string;
  viewer: string;
}

/** A tenant created through the admin API, with a token for each role. */
export async function createTenant(baseUrl: string, name: string): Promise<TestTenant> {
  const platform = await tokenFor('platform', 'owner');
  const created = await request(baseUrl, 'POST', '/api/v1/admin/tenants', {
    token: platform,
    body: { name },
  });
  if (created.status !== 201) throw new Error(`tenant not created: ${created.status}`);
  const id = created.body.id as string;
  return {
    id,
    owner: await tokenFor(id, 'owner'),
    admin: await tokenFor(id, 'admin'),
    member: await tokenFor(id, 'member'),
    viewer: await tokenFor(id, 'viewer'),
  };
}

/** Tenants created one after the other, in the order of their names. */
export async function createTenants<Names extends string[]>(
  baseUrl: string,
  ...names: Names
): Promise<{ [K in keyof Names]: TestTenant }> {
  const tenants: TestTenant[] = [];
  for (const name of names) tenants.push(await createTenant(baseUrl, name));
  return tenants as { [K in keyof Names]: TestTenant };
}
