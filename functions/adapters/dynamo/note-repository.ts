/**
 * Internal notes on conversations (`NOTES#{id}#{phno}#{contactKey}` /
 * `NOTE#{createdAt}#{noteId}`): a partition of their own per conversation,
 * so the message listing and the merges of messages never meet them.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationRef, StoredNote } from '../../core/inbox-ports.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { queryPage } from './query.js';

export class DynamoNoteRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async addNote(ref: ConversationRef, note: StoredNote): Promise<StoredNote> {
    const parts = { accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey, createdAt: note.createdAt, noteId: note.noteId };
    const item = entities.conversationNote.item(parts, {
      noteId: note.noteId,
      text: note.text,
      authorSubject: note.authorSubject,
      ...(note.authorUserId ? { authorUserId: note.authorUserId } : {}),
      createdAt: note.createdAt,
    });
    // The same note id twice (a retry) keeps the first.
    await writeIf(this.doc, new PutCommand({ TableName: this.tableName, Item: { ...item, accountId: ref.accountId }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return note;
  }

  async listNotes(ref: ConversationRef, page: PageRequest): Promise<Page<StoredNote>> {
    const partition = entities.conversationNote.partition({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey });
    const { items, nextCursor } = await queryPage(this.doc, this.tableName, { entity: entities.conversationNote, partition, skPrefix: entities.conversationNote.skPrefix() }, page);
    return {
      items: items.map((item) => ({
        noteId: item.noteId,
        text: item.text,
        authorSubject: item.authorSubject,
        ...(item.authorUserId ? { authorUserId: item.authorUserId } : {}),
        createdAt: item.createdAt,
      })),
      nextCursor,
    };
  }
}
