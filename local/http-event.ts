/**
 * Turns a Node HTTP request into the API Gateway v2 (HTTP API) event a Lambda
 * receives, raw body preserved byte for byte (base64 when not valid UTF-8, as
 * API Gateway does), and writes the handler's result back.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';

/** Past this much a too-large body is no longer read to its end: the connection is cut instead. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * The whole body, or 'too-large' past `maxBytes`. A too-large body is still
 * read to its end (up to `MAX_DRAIN_BYTES`) and dropped: a server that stops
 * reading and closes while the client is still sending makes the client see a
 * connection reset instead of the 413.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        resolve('too-large');
      }
    });
    req.once('end', () => resolve(size > maxBytes ? 'too-large' : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * `claims`: a verified token's, as the JWT authorizer passes them; `keyContext`:
 * the API-key authorizer's context, as a Lambda authorizer passes it.
 */
export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, claims?: Record<string, string>, keyContext?: Record<string, unknown>): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] ? `${query[name]},${value}` : value;
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const method = (req.method ?? 'GET').toUpperCase();
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    body: body.length ? (isText ? text : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
      ...(keyContext ? { authorizer: { lambda: keyContext } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

/** The REQUEST event a Lambda authorizer (payload 2.0) receives for this request, `identitySource` its one header. */
export function toAuthorizerEvent(req: IncomingMessage, identityHeader: string): APIGatewayRequestAuthorizerEventV2 {
  const event = toApiGatewayEvent(req, Buffer.alloc(0));
  const identity = event.headers[identityHeader];
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:local:000000000000:local/$default/${event.requestContext.http.method}${event.rawPath}`,
    identitySource: identity === undefined ? [] : [identity],
    routeKey: '$default',
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    cookies: [],
    headers: event.headers,
    queryStringParameters: event.queryStringParameters,
    requestContext: event.requestContext,
  };
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  if (typeof result === 'string' || result === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(result ?? '');
    return;
  }
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined;
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>).end(body);
}

export function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The answer to a request Node's HTTP parser refuses before any handler runs
 * (`clientError`): 431 for a header block over Node's limit (16 KB), 400 for
 * anything else that is not HTTP (bad bytes in the request line or a
 * header), with the JSON error body every other refusal has. Node's own
 * answer has no body at all; API Gateway answers such requests itself.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({
    error: tooLarge
      ? { code: 'HEADERS_TOO_LARGE', message: 'The request headers are larger than 16 KB.' }
      : { code: 'BAD_REQUEST', message: `Not a valid HTTP request (${error.code ?? 'parse error'}).` },
  });
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
