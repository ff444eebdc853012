/**
 * `npm start`: the whole backend on 127.0.0.1, no AWS account, no Docker.
 *   npm start                              in memory, PORT or 3000
 *   npm start -- --persist .local-data     keep DynamoDB data and the token key in a folder (or LOCAL_PERSIST_DIR)
 *   npm start -- --port 3001               another port (also `npm start --port 3001`, npm's own form)
 */
// Node 20 is supported here; the SDK's notice about its future Node 22 floor is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { UsageError, parseStartArgs } from './cli-args.js';
import { JavaMissing } from './dynamodb-local.js';
import { LOCAL_DEFAULTS, startLocalRuntime } from './runtime.js';

let options: ReturnType<typeof parseStartArgs>;
try {
  options = parseStartArgs(process.argv.slice(2), process.env, Number(LOCAL_DEFAULTS.PORT));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const { port, persistDir } = options;

try {
  const runtime = await startLocalRuntime({ port, persistDir, log: (line) => console.error(line) });
  console.log(
    [
      '',
      `  WhatsApp multi-number backend (local) on ${runtime.url}`,
      '',
      `  Dashboard API   ${runtime.url}/v1/...        (Authorization: Bearer <token>)`,
      `  API reference   ${runtime.url}/docs           (Swagger UI, no token)`,
      `  OpenAPI         ${runtime.url}/openapi.json   (the document, no token)`,
      `  Local tokens    POST ${runtime.url}/local/token  {"role":"support"}`,
      `  Meta webhook    ${runtime.url}/webhook            (sign bodies with WHATSAPP_APP_SECRET)`,
      `  Bus             ${runtime.url}/local/bus/events   ${runtime.url}/local/bus/dead-letters`,
      `  Graph API sim.  ${runtime.env.GRAPH_API_BASE_URL}  sends: ${runtime.url}/local/graph/messages`,
      `  Send queue      ${runtime.url}/local/send-queue/dead-letters`,
      `  DynamoDB Local  ${runtime.dynamoEndpoint}  table ${runtime.tableName} (${persistDir ? `persisted in ${persistDir}` : 'in memory'})`,
      '',
      `  WHATSAPP_APP_SECRET=${runtime.env.WHATSAPP_APP_SECRET}   WHATSAPP_VERIFY_TOKEN=${runtime.env.WHATSAPP_VERIFY_TOKEN}`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\n  stopping…');
    await runtime.stop();
    process.exit(0);
  };
  // Ctrl-C, `kill <pid>` (a process manager, a script) and a closed terminal all stop the whole tree.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);
} catch (error) {
  if (error instanceof JavaMissing) {
    console.error(error.message);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`Port ${port} is in use: start with another, e.g. PORT=3001 npm start`);
  } else {
    console.error(error);
  }
  process.exit(1);
}
