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

/** Who a message goes to: one user (the default), or a WhatsApp group the number is in (`to` is then the group's id). */
export type RecipientType = 'individual' | 'group';

export interface SendTextRequest {
  /** The sending number's Graph id: replies go out from the conversation's number. */
  phoneNumberId: string;
  /** The recipient's number (or BSUID for a username-only user, or a group's id). */
  to: string;
  recipientType?: RecipientType;
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
  recipientType?: RecipientType;
  template: TemplateMessage;
  bizOpaqueCallbackData?: string;
}

/** A reply button: the id comes back in the user's `button_reply`, the title is what they see (Meta: ≤ 20 characters). */
export interface ReplyButton {
  id: string;
  title: string;
}

/** A row of a list message (Meta: title ≤ 24 characters, description ≤ 72). */
export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

/** An interactive message: up to 3 reply buttons, or a list of up to 10 rows opened by a button. */
export type InteractiveContent =
  | { type: 'buttons'; /** Meta: ≤ 1,024 characters. */ body: string; buttons: ReplyButton[] }
  | { type: 'list'; body: string; /** The button that opens the list (Meta: ≤ 20 characters). */ buttonText: string; rows: ListRow[]; sectionTitle?: string };

export interface SendInteractiveRequest {
  phoneNumberId: string;
  to: string;
  recipientType?: RecipientType;
  interactive: InteractiveContent;
  bizOpaqueCallbackData?: string;
}

/** A file Meta fetches from a public link: an image, a document, a video (captions on these three), audio or a sticker. */
export type MediaContent =
  | { type: 'image'; link: string; caption?: string }
  | { type: 'document'; link: string; caption?: string; /** The name the user sees and saves it under. */ filename?: string }
  | { type: 'video'; link: string; caption?: string }
  | { type: 'audio' | 'sticker'; link: string; /** Meta takes none on audio and stickers. */ caption?: never };

export interface SendMediaRequest {
  phoneNumberId: string;
  to: string;
  recipientType?: RecipientType;
  media: MediaContent;
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
  /** Reply buttons or a list; free-form, so only inside the 24-hour window (`WindowClosed` otherwise). */
  sendInteractive(request: SendInteractiveRequest): Promise<SentMessage>;
  /** An image, document, video, audio or sticker by link; free-form, like text. */
  sendMedia(request: SendMediaRequest): Promise<SentMessage>;
  /** Submits a template to one WABA for review; Meta answers PENDING and reports the decision by webhook. */
  submitTemplate(wabaId: string, template: TemplateDefinition): Promise<SubmittedTemplate>;
  /**
   * Meta's read receipt for the inbound message `wamid`, from the number
   * `phoneNumberId` (`{status: "read", message_id}`); with `typing`, the
   * typing indicator too (shown up to 25 seconds or until the reply).
   */
  markRead(phoneNumberId: string, wamid: string, typing?: boolean): Promise<void>;
}
