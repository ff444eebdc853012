/**
 * One error hierarchy for the whole backend. Every failure a caller can act on
 * is an `AppError` subclass with a stable `code` and an HTTP `statusCode`;
 * `functions/commons/http.ts` is the one place that maps them to responses.
 * `expose: false` errors (5xx) answer with a generic body: no message, no stack.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
  /** Whether `message` and `details` may be shown to the caller. */
  readonly expose: boolean = true;
  /** Extra fields merged into the error body (`{error: {code, message, ...details}}`). */
  readonly details: Record<string, unknown> = {};
  /**
   * Whether the same work may pass when tried again later (contention, a
   * throttle, an outage, an event that arrived before its cause). Consumers
   * log a retryable failure as expected (`info`), any other as an `error`.
   */
  readonly retryable: boolean = false;
}

export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  /** zod's issue code (`invalid_type`, `too_big`, …), or `invalid_json` for a body that is not JSON. */
  code: string;
}

export class ValidationFailed extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly statusCode = 400;
  override readonly details: { issues: ValidationIssue[] };
  constructor(issues: ValidationIssue[], message?: string) {
    super(message ?? describeIssues(issues));
    this.details = { issues };
  }
}

function describeIssues(issues: ValidationIssue[]): string {
  const first = issues[0];
  if (!first) return 'The request is not valid.';
  const where = first.path.length ? first.path.join('.') : 'request';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}: ${first.message}${more}`;
}

export class Unauthenticated extends AppError {
  readonly code = 'UNAUTHENTICATED';
  readonly statusCode = 401;
  constructor(message = 'A valid bearer token is required.') {
    super(message);
  }
}

export class Forbidden extends AppError {
  readonly code = 'FORBIDDEN';
  readonly statusCode = 403;
  constructor(message = 'Your role does not allow this.') {
    super(message);
  }
}

/** A default-number-only feature asked of an additional number (docs/architecture.md). */
export class FeatureUnavailable extends AppError {
  readonly code = 'FEATURE_UNAVAILABLE';
  readonly statusCode = 403;
  override readonly details: { feature: string; whatsapp_phno: string };
  constructor(feature: string, whatsappPhno: string) {
    super(`${feature} is available on the default number only; ${whatsappPhno} is an additional number.`);
    this.details = { feature, whatsapp_phno: whatsappPhno };
  }
}

export class NotFound extends AppError {
  readonly code = 'NOT_FOUND';
  readonly statusCode = 404;
  constructor(what = 'The resource') {
    super(`${what} was not found.`);
  }
}

export class MethodNotAllowed extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly statusCode = 405;
  override readonly details: { allow: string[] };
  constructor(allow: string[]) {
    super(`Method not allowed here; allowed: ${allow.join(', ')}.`);
    this.details = { allow };
  }
}

export class QuotaExceeded extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly statusCode = 409;
  override readonly details: { resource: string; limit: number; used: number };
  constructor(resource: string, limit: number, used: number) {
    super(`The ${resource} limit is reached (${used} of ${limit} used).`);
    this.details = { resource, limit, used };
  }
}

/** The portfolio's messaging limit has no room for this user now (docs/quotas.md, "Single sends"): try again at `resumesAt`. */
export class MessagingLimitReached extends AppError {
  readonly code = 'MESSAGING_LIMIT_REACHED';
  readonly statusCode = 429;
  override readonly details: { whatsapp_phno: string; resumesAt: string };
  constructor(whatsappPhno: string, resumesAt: string) {
    super(`The portfolio's messaging limit has no room for another user on ${whatsappPhno} now; it frees capacity at ${resumesAt}.`);
    this.details = { whatsapp_phno: whatsappPhno, resumesAt };
  }
}

export class NumberAlreadyConnected extends AppError {
  readonly code = 'NUMBER_ALREADY_CONNECTED';
  readonly statusCode = 409;
  override readonly details: { whatsapp_phno: string };
  constructor(whatsappPhno: string) {
    super(`The number ${whatsappPhno} is already connected to an account.`);
    this.details = { whatsapp_phno: whatsappPhno };
  }
}

export class WindowClosed extends AppError {
  readonly code = 'WINDOW_CLOSED';
  readonly statusCode = 409;
  constructor(message = 'The 24-hour customer service window is closed; send a template instead.') {
    super(message);
  }
}

/** A uniqueness or state rule refused the change (e.g. an e-mail already has a seat). */
export class Conflict extends AppError {
  readonly code: string;
  readonly statusCode = 409;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    Object.assign(this.details, details);
  }
}

export class RequestInProgress extends AppError {
  readonly code = 'REQUEST_IN_PROGRESS';
  readonly statusCode = 409;
  constructor() {
    super('A request with this Idempotency-Key is still running; retry it shortly.');
  }
}

/** The same idempotency key was reused for a different request. */
export class IdempotencyKeyReused extends AppError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly statusCode = 422;
  constructor(message = 'This Idempotency-Key was already used for a different request.') {
    super(message);
  }
}

export class UnsupportedMediaType extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly statusCode = 415;
  constructor() {
    super('Send the body as application/json.');
  }
}

export class PayloadTooLarge extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly statusCode = 413;
  constructor(limitBytes: number) {
    super(`The body is larger than ${limitBytes} bytes.`);
  }
}

/**
 * An outbound URL (a webhook subscription's, an integration's) that the
 * server-side-request-forgery guard refuses: wrong scheme, or a host that
 * resolves to a private, loopback, link-local, metadata or other non-public
 * address. `reason` says which rule refused it.
 */
export class UnsafeUrl extends AppError {
  readonly code = 'UNSAFE_URL';
  readonly statusCode = 400;
  override readonly details: { reason: string };
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
    this.details = { reason };
  }
}

/**
 * An outbound request through the guarded HTTP client failed after it was
 * allowed: timeout, network error, a redirect (never followed) or a response
 * larger than the cap. `status` is the HTTP status when one arrived.
 */
export class OutboundRequestFailed extends AppError {
  readonly code = 'OUTBOUND_REQUEST_FAILED';
  readonly statusCode = 502;
  override readonly retryable = true;
  override readonly details: { reason: string; status: number | null };
  readonly reason: string;
  readonly status: number | null;
  constructor(reason: string, message: string, status: number | null = null) {
    super(message);
    this.reason = reason;
    this.status = status;
    this.details = { reason, status };
  }
}

/** Contention that outlasted our retries; safe for the caller to retry. */
export class ServiceBusy extends AppError {
  readonly code = 'SERVICE_BUSY';
  readonly statusCode = 503;
  override readonly retryable = true;
  constructor(message = 'The service is busy; retry the request.') {
    super(message);
  }
}

export class InternalError extends AppError {
  readonly code = 'INTERNAL';
  readonly statusCode = 500;
  override readonly expose = false;
  constructor(message = 'Internal error.') {
    super(message);
  }
}

/** Meta's Graph API refused a send for a reason the caller can act on (bad recipient, bad template, …). */
export class WhatsAppRejected extends AppError {
  readonly code = 'WHATSAPP_REJECTED';
  readonly statusCode = 422;
  override readonly details: { metaCode: number | null; metaMessage: string };
  constructor(metaCode: number | null, metaMessage: string) {
    super(`WhatsApp refused the request: ${metaMessage}`);
    this.details = { metaCode, metaMessage };
  }
}

/** A throughput (130429) or pair-rate (131056) limit was hit: safe to retry later, nothing was sent. */
export class WhatsAppThrottled extends AppError {
  readonly code = 'WHATSAPP_THROTTLED';
  readonly statusCode = 429;
  override readonly retryable = true;
  override readonly details: { metaCode: number | null };
  constructor(metaCode: number | null) {
    super('WhatsApp is rate-limiting this number; retry shortly.');
    this.details = { metaCode };
  }
}

/**
 * The Graph API kept failing (5xx, network) after our bounded retries.
 * `sendOutcome` says whether Meta can have taken a send: `not-sent` (a 5xx
 * answer, no connection) or `unknown` (no answer in time, a 200 without a wamid).
 */
export class WhatsAppUnavailable extends AppError {
  readonly code = 'WHATSAPP_UNAVAILABLE';
  readonly statusCode = 503;
  override readonly retryable = true;
  constructor(
    message = 'WhatsApp is not answering; retry the request.',
    readonly sendOutcome: 'not-sent' | 'unknown' = 'not-sent',
  ) {
    super(message);
  }
}

/**
 * The bus did not accept every event of a batch after bounded retries (or an
 * event is larger than the bus takes). The webhook answers 500 so Meta
 * redelivers: duplicates are harmless, loss is not.
 */
export class EventsNotPublished extends AppError {
  readonly code = 'EVENTS_NOT_PUBLISHED';
  readonly statusCode = 500;
  override readonly expose = false;
  readonly failed: number;
  readonly total: number;
  constructor(failed: number, total: number, reason: string) {
    super(`${failed} of ${total} events were not published: ${reason}`);
    this.failed = failed;
    this.total = total;
  }
}

/** A credit reservation of that id exists already: a concurrent run of the same chunk reserved first. */
export class ReservationExists extends Conflict {
  constructor(reservationId: string) {
    super('RESERVATION_EXISTS', `Reservation ${reservationId} already exists.`);
  }
}

/** The reservation was settled already (a concurrent run settled it, with the same states). */
export class ReservationSettled extends Conflict {
  constructor(reservationId: string) {
    super('RESERVATION_SETTLED', `Reservation ${reservationId} is already settled.`);
  }
}

/** The value an optimistic write was guarded by changed since it was read (a concurrent purchase landed first): read and write again. */
export class StaleRead extends Conflict {
  override readonly retryable = true;
  constructor() {
    super('STALE_READ', 'retry');
  }
}
