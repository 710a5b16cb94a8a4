// Quiet, deterministic settings for every test file.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.STAGE ??= 'dev';
// The emulator on a shared machine can take longer than the 300 ms production bound.
process.env.RATE_LIMIT_STORE_TIMEOUT_MS ??= '3000';
