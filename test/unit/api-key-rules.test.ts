import type { ApiKeyRecord } from '../../functions/shared/features/tenancy/model';
import { ApiKeyPolicyError, creatorOf, visibleTo } from '../../functions/shared/features/tenancy/service';

const user = (role: 'viewer' | 'member' | 'admin' | 'owner', subject = 'user-1') => ({
  tenantId: 'ten_a',
  role,
  subject,
  method: 'jwt' as const,
});
const key = (role: ApiKeyRecord['role']): ApiKeyRecord => ({
  id: 'key_1',
  tenant_id: 'ten_a',
  name: 'k',
  role,
  prefix: 'ae_x',
  created_at: '2026-11-25T10:00:00Z',
});

describe('API key rules', () => {
  it('records a person as the creator, with the role they held', () => {
    expect(creatorOf(user('admin'), 'tenant', 'member')).toEqual({
      subject: 'user-1',
      role: 'admin',
      via: 'tenant',
    });
    expect(creatorOf(user('owner'), 'tenant', 'owner')).toEqual({
      subject: 'user-1',
      role: 'owner',
      via: 'tenant',
    });
  });

  it('lets no token exchanged for a key make keys, and nobody hand out more than they hold', () => {
    expect(() => creatorOf(user('owner', 'apikey:key_9'), 'tenant', 'viewer')).toThrow(
      new ApiKeyPolicyError('A token exchanged for an API key cannot create API keys'),
    );
    expect(() => creatorOf(user('admin'), 'tenant', 'owner')).toThrow(
      'An API key cannot have a higher role than its creator',
    );
  });

  it('shows a user the keys up to their own role only', () => {
    expect(visibleTo(user('admin'), key('owner'))).toBe(false);
    expect(visibleTo(user('admin'), key('admin'))).toBe(true);
    expect(visibleTo(user('owner'), key('owner'))).toBe(true);
    expect(visibleTo(user('member'), key('viewer'))).toBe(true);
  });
});
