/**
 * The transaction parts of a number change (docs/data-model.md, "Numbers and
 * routes"): a number is four rows kept in lockstep, the number item, its
 * platform-wide claim and the webhook's two routes, plus the account's default
 * marker where the default changes. Pure builders: the number repository
 * composes them into one transaction per change.
 */
import { NotFound, NumberAlreadyConnected } from '../../core/errors.js';
import { StaleNumberState } from '../../core/backend-failures.js';
import type { NumberRoute } from '../../core/ingestion.js';
import { type ConnectedNumber, withPhoneNumberId } from '../../core/numbers.js';
import * as entities from './entities/index.js';
import type { TxPart } from './transact.js';
import { putNew } from './transaction-parts.js';

/** A route row holds exactly these attributes: the webhook reads them and nothing else. */
export function routeOf(number: Pick<ConnectedNumber, keyof NumberRoute>): NumberRoute {
  return {
    accountId: number.accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefault: number.isDefault,
    name: number.name,
  };
}

export function numberKey(number: Pick<ConnectedNumber, 'accountId' | 'whatsapp_phno'>) {
  return entities.number.key({ accountId: number.accountId, whatsappPhno: number.whatsapp_phno });
}

/** Both route rows of a number. */
export function routeKeys(number: Pick<ConnectedNumber, 'phoneNumberId' | 'wabaId' | 'whatsapp_phno'>) {
  return [
    entities.phoneNumberIdRoute.key({ phoneNumberId: number.phoneNumberId }),
    entities.wabaRoute.key({ wabaId: number.wabaId, whatsappPhno: number.whatsapp_phno }),
  ];
}

/** The claim and both routes of a number being connected: each refuses a number or phone_number_id in use anywhere. */
export function claimAndRoutes(tableName: string, number: ConnectedNumber): TxPart[] {
  const taken = () => new NumberAlreadyConnected(number.whatsapp_phno);
  const route = routeOf(number);
  return [
    putNew(
      tableName,
      entities.numberClaim.item(
        { whatsappPhno: number.whatsapp_phno },
        { accountId: number.accountId, whatsapp_phno: number.whatsapp_phno, phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, claimedAt: number.connectedAt },
      ),
      taken,
    ),
    putNew(tableName, entities.phoneNumberIdRoute.item({ phoneNumberId: number.phoneNumberId }, route), () =>
      withPhoneNumberId(new NumberAlreadyConnected(number.whatsapp_phno), number.phoneNumberId),
    ),
    putNew(tableName, entities.wabaRoute.item({ wabaId: number.wabaId, whatsappPhno: number.whatsapp_phno }, route), taken),
  ];
}

export function putNumber(tableName: string, number: ConnectedNumber): TxPart {
  return putNew(tableName, entities.number.item({ accountId: number.accountId, whatsappPhno: number.whatsapp_phno }, number), () => new NumberAlreadyConnected(number.whatsapp_phno));
}

/** Deletes the number item if it still is what was read (same Meta id, same role). */
export function deleteNumber(tableName: string, number: ConnectedNumber, isDefault: boolean): TxPart {
  return {
    item: {
      Delete: {
        TableName: tableName,
        Key: numberKey(number),
        ConditionExpression: 'attribute_exists(pk) AND isDefault = :role AND phoneNumberId = :pnid',
        ExpressionAttributeValues: { ':role': isDefault, ':pnid': number.phoneNumberId },
      },
    },
    onConditionFailed: (old) =>
      old ? new StaleNumberState(`${number.whatsapp_phno} changed meanwhile`) : new NotFound(`The number ${number.whatsapp_phno}`),
  };
}

/** Frees the number platform-wide: its claim and both routes, each only if it is this account's. */
export function freeClaimAndRoutes(tableName: string, number: ConnectedNumber): TxPart[] {
  const remove = (key: { pk: string; sk: string }, condition: string): TxPart => ({
    item: { Delete: { TableName: tableName, Key: key, ConditionExpression: condition, ExpressionAttributeValues: { ':acc': number.accountId } } },
    onConditionFailed: () => new StaleNumberState(`${number.whatsapp_phno} is not this account's`),
  });
  return [
    remove(entities.numberClaim.key({ whatsappPhno: number.whatsapp_phno }), 'accountId = :acc'),
    ...routeKeys(number).map((key) => remove(key, 'attribute_not_exists(pk) OR accountId = :acc')),
  ];
}

/** Puts the default marker, only where there is none: two first connects racing put one. */
export function putMarker(tableName: string, accountId: string, whatsappPhno: string, at: string, onExists: () => Error): TxPart {
  return putNew(tableName, entities.defaultNumber.item({ accountId }, { whatsapp_phno: whatsappPhno, updatedAt: at }), onExists);
}

/** Points the default marker at another number, only if it still names `current`. */
export function moveMarker(tableName: string, current: ConnectedNumber, nextPhno: string, at: string): TxPart {
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: entities.defaultNumber.key({ accountId: current.accountId }),
        UpdateExpression: 'SET whatsapp_phno = :next, updatedAt = :at',
        ConditionExpression: 'whatsapp_phno = :current',
        ExpressionAttributeValues: { ':next': nextPhno, ':current': current.whatsapp_phno, ':at': at },
      },
    },
    onConditionFailed: () => new StaleNumberState('the default changed meanwhile'),
  };
}

/** Deletes the default marker, only while it names `whatsappPhno`. */
export function deleteMarker(tableName: string, accountId: string, whatsappPhno: string, onChanged?: () => Error): TxPart {
  return {
    item: {
      Delete: {
        TableName: tableName,
        Key: entities.defaultNumber.key({ accountId }),
        ConditionExpression: 'whatsapp_phno = :phno',
        ExpressionAttributeValues: { ':phno': whatsappPhno },
      },
    },
    ...(onChanged ? { onConditionFailed: onChanged } : {}),
  };
}

/** The account has (`exists`) or has no default marker, as the decision read. */
export function markerCheck(tableName: string, accountId: string, exists: boolean, onChanged: () => Error): TxPart {
  return {
    item: {
      ConditionCheck: {
        TableName: tableName,
        Key: entities.defaultNumber.key({ accountId }),
        ConditionExpression: exists ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)',
      },
    },
    onConditionFailed: onChanged,
  };
}
