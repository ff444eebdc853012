/**
 * Failures inside the backend: not answers to a request but states a retry,
 * the DLQ or an operator resolves (a lost race, a record a consumer cannot
 * read, a missing setting). The answers callers get are in `errors.ts`.
 */
import { AppError } from './errors.js';

/**
 * A failure inside the backend, not an answer to a request: should one reach
 * the API it is a 500 with a generic body. `retryable` ones pass when the same
 * work is tried again later.
 */
export abstract class BackendFailure extends AppError {
  readonly statusCode = 500;
  override readonly expose = false;
}

/**
 * The state a conditional write depended on changed between our read and our
 * write (another request made a default, removed one, connected a number).
 * Not an answer: the use case reads again and decides again.
 */
export class StaleNumberState extends BackendFailure {
  readonly code = 'STALE_NUMBER_STATE';
  override readonly retryable = true;
  constructor(what: string) {
    super(`State changed meanwhile: ${what}`);
  }
}

/** The merge step found the number moved already (an earlier run of the same merge moved it). */
export class NumberAlreadyMoved extends BackendFailure {
  readonly code = 'NUMBER_ALREADY_MOVED';
  constructor(whatsappPhno: string) {
    super(`The number ${whatsappPhno} was already moved.`);
  }
}

/** A condition on a broadcast recipient's state said no: another run changed it first. */
export class RecipientChanged extends BackendFailure {
  readonly code = 'RECIPIENT_CHANGED';
  constructor() {
    super('A broadcast recipient changed meanwhile.');
  }
}

/** Another run of the same chunk is still sending some of its recipients: retry the message later. */
export class ChunkInFlight extends BackendFailure {
  readonly code = 'CHUNK_IN_FLIGHT';
  override readonly retryable = true;
  constructor(broadcastId: string, chunk: number, inFlight: number) {
    super(`${inFlight} recipients of ${broadcastId} chunk ${chunk} are being sent by another run; retry later.`);
    this.name = 'ChunkInFlight';
  }
}

/** The portfolio's limit, usage or shares changed since a round read them (another number took units): decide again. */
export class CapacityChanged extends BackendFailure {
  readonly code = 'CAPACITY_CHANGED';
  override readonly retryable = true;
  constructor() {
    super('The messaging limit changed meanwhile; decide again.');
    this.name = 'CapacityChanged';
  }
}

/** A reached user's unit could not be moved (its bucket changed or was released meanwhile): take new units instead. */
export class ReachedCellChanged extends BackendFailure {
  readonly code = 'REACHED_CELL_CHANGED';
  override readonly retryable = true;
  constructor(bucket: string) {
    super(`The units of bucket ${bucket} changed meanwhile.`);
    this.name = 'ReachedCellChanged';
  }
}

/** A status of a broadcast message that arrived before the sender recorded the send: retried later. */
export class BroadcastSendNotRecorded extends BackendFailure {
  readonly code = 'BROADCAST_SEND_NOT_RECORDED';
  override readonly retryable = true;
  constructor(wamid: string) {
    super(`The send of ${wamid} is not recorded yet; retry.`);
    this.name = 'BroadcastSendNotRecorded';
  }
}

/** An inbox message item is not there yet, or another writer raced us to it: the event is retried. */
export class MessageNotRecorded extends BackendFailure {
  readonly code = 'MESSAGE_NOT_RECORDED';
  override readonly retryable = true;
  constructor(message: string) {
    super(message);
  }
}

/** The send queue did not accept every message after bounded retries (or refused one for good). */
export class MessagesNotEnqueued extends BackendFailure {
  readonly code = 'MESSAGES_NOT_ENQUEUED';
  constructor(failed: number, total: number, reason: string) {
    super(`${failed} of ${total} send-queue messages were not accepted: ${reason}`);
    this.name = 'MessagesNotEnqueued';
  }
}

/** A condition of a transaction failed and its part did not say what that means: a bug, not an answer. */
export class TransactionConditionFailed extends BackendFailure {
  readonly code = 'TRANSACTION_CONDITION_FAILED';
  constructor(index: number) {
    super(`Condition failed on transaction item ${index}`);
  }
}

/** A stored item does not have the shape its writer gives it: a bug worth a 5xx and a retry, never a silent drop. */
export class MalformedItem extends BackendFailure {
  readonly code = 'MALFORMED_ITEM';
  constructor(what: string, reason: string) {
    super(`Malformed ${what}: ${reason}`);
  }
}

/** A required setting is missing or invalid: fails at cold start, naming it. */
export class InvalidConfiguration extends BackendFailure {
  readonly code = 'INVALID_CONFIGURATION';
  constructor(message: string) {
    super(message);
  }
}

/**
 * A queue record that is not what its consumer reads (not JSON, not a bus
 * event, a detail that fails its schema). Retrying cannot fix it.
 */
export class MalformedRecord extends AppError {
  readonly code = 'MALFORMED_RECORD';
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
  }
}

/** A record of the inbox queue its consumer cannot read. */
export class MalformedInboxRecord extends MalformedRecord {
  override name = 'MalformedInboxRecord';
}

/** A record of the broadcast queue its consumer cannot read. */
export class MalformedBroadcastRecord extends MalformedRecord {
  override name = 'MalformedBroadcastRecord';
}
