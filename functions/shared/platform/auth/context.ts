import { ROLES, type Role } from '../../../../contract/routes';

/** Who is calling, as proven by a verified token or API key. */
export interface AuthContext {
  /** The tenant (organisation) the caller acts for. */
  readonly tenantId: string;
  readonly role: Role;
  /** The user, API key (`apikey:<id>`) or client behind the call. */
  readonly subject: string;
  readonly method: 'jwt' | 'cognito' | 'apiKey';
}

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function hasRole(actual: Role, required: Role): boolean {
  return roleRank(actual) >= roleRank(required);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function platformOrgId(): string {
  return process.env.PLATFORM_ORG_ID || 'platform';
}

/** An admin or owner of the platform organisation. */
export function isPlatformAdmin(auth: AuthContext): boolean {
  return auth.tenantId === platformOrgId() && hasRole(auth.role, 'admin');
}
