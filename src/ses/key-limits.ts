/**
 * The key limits of the table the rows go to (DynamoDB: partition key 2048 bytes, sort key 1024), and how a
 * value too long for them becomes a key that still fits. Here, with the rows, because the row builder keys
 * rows exactly as they are stored (and prints them so); the store applies the same clamp.
 */
import { createHash } from 'node:crypto';

export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/** The longest prefix of s that is at most maxBytes in UTF-8, cut on a character boundary. */
export function utf8Prefix(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // buf[end] continues a character begun before end
  return buf.toString('utf8', 0, end);
}

/**
 * A key within `limit` UTF-8 bytes. SES names are far shorter; a longer one (malformed input) keeps the
 * longest prefix that fits and a hash of the whole, so it stays unique and the same input always gives
 * the same key.
 */
export function clampKey(key: string, limit: number = MAX_SORT_KEY_BYTES): string {
  if (key.length * 3 <= limit) return key; // cannot exceed the limit even if every char were 3 bytes
  if (Buffer.byteLength(key, 'utf8') <= limit) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  return `${utf8Prefix(key, limit - hash.length - 1)}#${hash}`;
}
