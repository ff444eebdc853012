/**
 * "The network, stubbed" for cold starts: one HTTP server on loopback that
 * answers what AWS (DynamoDB, EventBridge, Secrets Manager, SQS) and the Graph
 * API would answer, well enough for a first handler call to go its normal
 * way. Children reach it through `AWS_ENDPOINT_URL` (every SDK client honours
 * it) and `GRAPH_API_BASE_URL`, so the bundles run unmodified.
 */
import { type Server, createServer } from 'node:http';

export const STUB_SECRET = 'bench-app-secret';

/** The route every phone_number_id resolves to, as the numbers feature writes it. */
export const STUB_ROUTE = { accountId: 'acc_bench00001', whatsapp_phno: '15550001001', wabaId: '210000000000001', isDefault: true, name: 'Support' };

type Json = Record<string, unknown>;

function dynamoValue(value: unknown): Json {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  return { N: String(value) };
}

function answer(target: string, request: Json): Json {
  switch (target) {
    case 'DynamoDB_20120810.GetItem': {
      const key = request.Key as { pk?: { S?: string } } | undefined;
      const pnid = key?.pk?.S?.match(/^PNID#(.+)$/)?.[1];
      if (!pnid) return {};
      const item = { pk: `PNID#${pnid}`, sk: 'ROUTE', ...STUB_ROUTE, phoneNumberId: pnid };
      return { Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, dynamoValue(v)])) };
    }
    case 'DynamoDB_20120810.Query':
      return { Items: [], Count: 0, ScannedCount: 0 };
    case 'DynamoDB_20120810.BatchGetItem':
      return { Responses: {}, UnprocessedKeys: {} };
    case 'DynamoDB_20120810.BatchWriteItem':
      return { UnprocessedItems: {} };
    case 'DynamoDB_20120810.TransactGetItems':
      return { Responses: ((request.TransactItems as unknown[]) ?? []).map(() => ({})) };
    case 'AWSEvents.PutEvents':
      return { FailedEntryCount: 0, Entries: ((request.Entries as unknown[]) ?? []).map((_, i) => ({ EventId: `bench-${i}` })) };
    case 'secretsmanager.GetSecretValue':
      return { ARN: request.SecretId, Name: 'bench', SecretString: STUB_SECRET };
    case 'AmazonSQS.SendMessageBatch':
      return { Successful: ((request.Entries as { Id: string }[]) ?? []).map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })), Failed: [] };
    case 'AmazonSQS.SendMessage':
      return { MessageId: 'bench', MD5OfMessageBody: '' };
    default:
      return {};
  }
}

export interface NetworkStub {
  url: string;
  requests: number;
  stop(): Promise<void>;
}

export async function startNetworkStub(): Promise<NetworkStub> {
  const stub = { requests: 0 } as NetworkStub;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      stub.requests++;
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string') {
        // The Graph API: a send answers a wamid.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [], messages: [{ id: `wamid.BENCH_${stub.requests}` }] }));
        return;
      }
      let request: Json = {};
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // Not JSON: answered like any other call.
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' });
      res.end(JSON.stringify(answer(target, request)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  stub.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return stub;
}
