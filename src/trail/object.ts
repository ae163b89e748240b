/** One S3 object that a trigger names: the unit of work of the handler. */
export interface S3ObjectRef {
  bucket: string;
  /** Decoded key (never URL-encoded). */
  key: string;
  versionId?: string;
}

export function s3Uri(ref: Pick<S3ObjectRef, 'bucket' | 'key'>): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** Parses `s3://bucket/key`; returns undefined for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(uri);
  if (!m) return undefined;
  return { bucket: m[1], key: m[2] };
}
