import {
  catalogBindingView,
  catalogBody,
  catalogView,
  connectNumberBody,
  numberList,
  numberParams,
  numberView,
  patchNumberBody,
} from '../../../schemas/numbers.js';
import {
  type NumberDeps,
  type NumberToConnect,
  connectNumber,
  getNumberCatalog,
  listNumbers,
  replaceDefaultNumber,
  setNumberCatalog,
  updateNumber,
} from '../../core/numbers.js';
import type { ConnectNumberBody } from '../../../schemas/numbers.js';
import type { TemplateDeps } from '../../core/template-ports.js';
import { syncTemplatesToNumber } from '../../core/templates.js';
import { defineRoute } from '../router.js';

function toConnect(body: ConnectNumberBody): NumberToConnect {
  return {
    name: body.name,
    whatsapp_phno: body.displayPhoneNumber,
    phoneNumberId: body.phoneNumberId,
    wabaId: body.wabaId,
    ...(body.portfolioId ? { portfolioId: body.portfolioId } : {}),
  };
}

/** The account's numbers: listed by agents, connected and edited by admins, the default replaced by owners. */
export const numberRoutes = [
  defineRoute<NumberDeps>({
    method: 'GET',
    path: '/v1/numbers',
    summary: 'The connected numbers, default first, with the features each offers.',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    response: { status: 200, schema: numberList },
    handle: async ({ accountId, deps }) => ({ statusCode: 200, body: { items: await listNumbers(deps, accountId) } }),
  }),
  defineRoute<NumberDeps & TemplateDeps, typeof connectNumberBody>({
    method: 'POST',
    path: '/v1/numbers',
    summary: 'Connect a number (the result of Embedded Signup): the first becomes the default, others take a number add-on.',
    role: 'admin',
    scope: 'account',
    body: connectNumberBody,
    response: { status: 201, schema: numberView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => {
      const number = await connectNumber(deps, accountId, toConnect(body), idempotencyKey);
      // The account's templates follow the new number (its WABA's status, or a submission to its WABA).
      await syncTemplatesToNumber(deps, accountId, number.whatsapp_phno);
      return { statusCode: 201, body: number };
    },
  }),
  defineRoute<NumberDeps & TemplateDeps, typeof connectNumberBody>({
    method: 'PUT',
    path: '/v1/numbers/default',
    summary: 'Replace the default number by one connected nowhere; the old default is disconnected.',
    role: 'owner',
    scope: 'account',
    body: connectNumberBody,
    response: { status: 200, schema: numberView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => {
      const { number, created } = await replaceDefaultNumber(deps, accountId, toConnect(body), idempotencyKey);
      await syncTemplatesToNumber(deps, accountId, number.whatsapp_phno);
      return { statusCode: created ? 201 : 200, body: number };
    },
  }),
  defineRoute<NumberDeps, typeof patchNumberBody, never, typeof numberParams>({
    method: 'PATCH',
    path: '/v1/numbers/{phno}',
    summary:
      'Rename a number, set (null clears) its credit cap inside the shared pool, or its share of the portfolio messaging limit: {"percent": p} caps it, {"reserved": n} keeps n units for it alone.',
    role: 'admin',
    scope: 'account',
    params: numberParams,
    body: patchNumberBody,
    response: { status: 200, schema: numberView },
    handle: async ({ accountId, params, body, deps }) => ({
      statusCode: 200,
      body: await updateNumber(deps, accountId, params.phno, body),
    }),
  }),
  defineRoute<NumberDeps, never, never, typeof numberParams>({
    method: 'GET',
    path: '/v1/numbers/{phno}/catalog',
    summary: 'The Meta catalog bound to the default number (catalogId null until bound); 403 FEATURE_UNAVAILABLE on an additional one.',
    role: 'agent',
    scope: 'account',
    params: numberParams,
    response: { status: 200, schema: catalogBindingView },
    handle: async ({ accountId, params, deps }) => ({ statusCode: 200, body: await getNumberCatalog(deps, accountId, params.phno) }),
  }),
  defineRoute<NumberDeps, typeof catalogBody, never, typeof numberParams>({
    method: 'PUT',
    path: '/v1/numbers/{phno}/catalog',
    summary: 'Bind a Meta catalog: default number only (403 FEATURE_UNAVAILABLE on an additional one).',
    role: 'admin',
    scope: 'account',
    params: numberParams,
    body: catalogBody,
    response: { status: 200, schema: catalogView },
    handle: async ({ accountId, params, body, deps }) => ({
      statusCode: 200,
      body: await setNumberCatalog(deps, accountId, params.phno, body.catalogId),
    }),
  }),
];
