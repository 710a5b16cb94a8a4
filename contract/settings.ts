/**
 * How operator tools find a stage's secrets: each secret of the stack carries these two tags
 * (infra/constructs/storage.ts), and `config check` looks them up by tag. Pure data.
 */
export const SECRET_STAGE_TAG = 'adsengineer:stage';
export const SECRET_SETTING_TAG = 'adsengineer:setting';

export type SecretSetting =
  | 'jwt-secret'
  | 'email-hash-key'
  | 'stripe-webhook-secret'
  | 'stripe-api-key'
  | 'google-ads-developer-token';
