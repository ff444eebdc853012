import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '../core/ports.js';

/** Ids that sort by creation time and read well in logs: `usr_mbx3k2p1a9f0c4e2d8b7`. */
export const timeOrderedIds: IdGenerator = {
  newId(prefix: string): string {
    return `${prefix}_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
  },
};

export const systemClock = { now: () => new Date() };
