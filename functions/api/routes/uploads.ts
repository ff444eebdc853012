import { createUploadBody, uploadCreated } from '../../../schemas/uploads.js';
import { type UploadDeps, createUpload } from '../../core/agent-media.js';
import { defineRoute } from '../router.js';

/** Files to send from the inbox: Meta's media rules checked first, then a presigned PUT for the bytes. */
export const uploadRoutes = [
  defineRoute<UploadDeps, typeof createUploadBody>({
    method: 'POST',
    path: '/v1/uploads',
    summary:
      "Hand out a presigned PUT for a file to send (`{image|video|audio|document|sticker: {uploadId}}`); its type and size are checked against Meta's media rules first (400 naming `body.mimeType` / `body.sizeBytes`). PUT exactly `sizeBytes` bytes with the `headers` given; the upload may be sent for 24 hours.",
    role: 'agent',
    scope: 'account',
    apiKey: true,
    body: createUploadBody,
    response: { status: 201, schema: uploadCreated },
    handle: async ({ accountId, body, deps }) => ({ statusCode: 201, body: await createUpload(deps, accountId, body) }),
  }),
];
