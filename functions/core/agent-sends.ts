/**
 * What an agent's `POST /v1/conversations/{id}/messages` sends, by the one
 * part its body gives (`replyBody`, exactly one): free text or saved reply
 * material (`inbox-views.ts`), a file (`agent-media.ts`) or a template
 * approved on the number (`inbox-templates.ts`).
 */
import type { ReplyBody } from '../../schemas/inbox.js';
import { MEDIA_KINDS } from '../../schemas/uploads.js';
import { type AgentMediaDeps, sendMediaAsAgent } from './agent-media.js';
import type { ConversationRef } from './inbox-ports.js';
import { sendInboxTemplate } from './inbox-templates.js';
import { type ReplyMaterialDeps, sendReply, sendReplyMaterial } from './inbox-views.js';
import type { AgentTemplateDeps } from './template-sends.js';

export type AgentSendDeps = AgentMediaDeps & ReplyMaterialDeps & AgentTemplateDeps;

export async function sendFromInbox(deps: AgentSendDeps, ref: ConversationRef, body: ReplyBody): Promise<{ wamid: string }> {
  if (body.replyMaterialId !== undefined) return sendReplyMaterial(deps, ref, body.replyMaterialId);
  if (body.template !== undefined) return sendInboxTemplate(deps, ref, body.template);
  const kind = MEDIA_KINDS.find((k) => body[k] !== undefined);
  if (kind) return sendMediaAsAgent(deps, ref, kind, body[kind]!);
  return sendReply(deps, ref, body.text!);
}
