/**
 * Fresh short-lived URLs for the stored files of a page of messages, made
 * when the list is read (`MediaStore.urlFor`: a presigned S3 GET in AWS, a
 * signed `/local/media/…` URL locally) and never stored: an old one expires,
 * reading the messages again gives a new one.
 */
import type { StoredMessage } from './inbox-ports.js';
import { messageViewOf } from './inbox-views.js';
import { MEDIA_GET_URL_SECONDS, type MediaStore } from './media-ports.js';
import type { Clock } from './ports.js';

export interface MediaUrlDeps {
  media: Pick<MediaStore, 'urlFor'>;
  clock: Clock;
}

/**
 * The views of a page of messages, each stored file with a URL that works
 * for `MEDIA_GET_URL_SECONDS` (`expiresAt`). A document downloads under its
 * file name.
 */
export async function messageViewsWithMedia(deps: MediaUrlDeps, messages: readonly StoredMessage[]) {
  const expiresAt = new Date(deps.clock.now().getTime() + MEDIA_GET_URL_SECONDS * 1000).toISOString();
  return Promise.all(
    messages.map(async (message) => {
      const view = messageViewOf(message);
      const key = message.media?.status === 'stored' && !message.deleted ? message.media.key : undefined;
      if (!key || !view.media) return view;
      const url = await deps.media.urlFor(key, message.media?.fileName ? { fileName: message.media.fileName } : undefined);
      return { ...view, media: { ...view.media, url, expiresAt } };
    }),
  );
}
