/** Every item of an account lives in its partition (the inbox's messages and the broadcast rows aside). */
export const ACCOUNT_PARTITION = 'A#{accountId}';
