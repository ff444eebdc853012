/**
 * Set before any other module of the bench loads (it is `run.ts`'s first
 * import): Powertools reads these when a logger or metrics object is made, and
 * the functions' modules make theirs at import, as in a Lambda cold start.
 * Metrics are not printed here; the SDK's Node-version notice is not wanted.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
