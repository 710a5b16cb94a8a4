/**
 * HighLevel's published Ed25519 public key for webhook signatures (`X-GHL-Signature`), as printed
 * in HighLevel's Webhook Integration Guide, "Security: verifying webhook authenticity":
 * https://marketplace.gohighlevel.com/docs/webhook/WebhookIntegrationGuide/#security-verifying-webhook-authenticity
 * The base64 of its DER SubjectPublicKeyInfo. The stack gives it to the ingest function as
 * `GHL_WEBHOOK_PUBLIC_KEY` unless the deploy context `ghlWebhookPublicKey` names another (HighLevel
 * announces rotations by e-mail and in its developer channels). Pure data.
 */
export const GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY =
  'MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=';
