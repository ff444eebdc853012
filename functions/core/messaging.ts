/**
 * The port core sends WhatsApp messages through (Meta's Graph API in
 * production, the simulator locally). Implemented by
 * `functions/adapters/graph/graph-client.ts`.
 *
 * Failures come back as typed errors (`functions/core/errors.ts`):
 * `WindowClosed` when Meta refuses a free-form message outside the 24-hour
 * window, `WhatsAppThrottled` (retryable) when a throughput or pair-rate limit
 * was hit, `WhatsAppUnavailable` (retryable) when Meta kept failing,
 * `WhatsAppRejected` for any other refusal.
 */

export interface SendTextRequest {
  /** The sending number's Graph id: replies go out from the conversation's number. */
  phoneNumberId: string;
  /** The recipient's number (or BSUID for a username-only user). */
  to: string;
  text: string;
  /** Echoed by Meta in every status of the message (`biz_opaque_callback_data`). */
  bizOpaqueCallbackData?: string;
}

export interface TemplateMessage {
  name: string;
  language: string;
  /** Meta's template `components` (header/body/button parameters), passed through. */
  components?: unknown[];
}

export interface SendTemplateRequest {
  phoneNumberId: string;
  to: string;
  template: TemplateMessage;
  bizOpaqueCallbackData?: string;
}

export interface SentMessage {
  wamid: string;
  /** The recipient as WhatsApp knows it (Meta's `contacts[0].wa_id`), when given. */
  waId?: string;
}

export interface TemplateDefinition {
  name: string;
  language: string;
  category: string;
  components: unknown[];
}

export interface SubmittedTemplate {
  /** Meta's template id. */
  id: string;
  status: string;
}

export interface MessageSender {
  sendText(request: SendTextRequest): Promise<SentMessage>;
  sendTemplate(request: SendTemplateRequest): Promise<SentMessage>;
  /** Submits a template to one WABA for review; Meta answers PENDING and reports the decision by webhook. */
  submitTemplate(wabaId: string, template: TemplateDefinition): Promise<SubmittedTemplate>;
}
