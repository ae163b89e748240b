/** Create-if-missing for a bucket: for `ses-audit local` and tests, where no stack has made it. */
import { CreateBucketCommand, HeadBucketCommand, S3ServiceException, type BucketLocationConstraint, type S3Client } from '@aws-sdk/client-s3';

export type EnsureBucketResult = 'created' | 'exists';

/** Creates the bucket if missing (in the client's region). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<EnsureBucketResult> {
  if (await bucketExists(s3, bucket)) return 'exists';
  const region = await s3.config.region();
  // us-east-1 is the default location and refuses to be named. The SDK type lists the regions it knew when
  // released; S3 takes any region name, so a region string is one (an SDK type gap).
  const location = region && region !== 'us-east-1' ? (region as BucketLocationConstraint) : undefined;
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(location ? { CreateBucketConfiguration: { LocationConstraint: location } } : {}),
      }),
    );
    return 'created';
  } catch (err) {
    const name = err instanceof Error ? err.name : undefined;
    if (name === 'BucketAlreadyOwnedByYou') return 'exists';
    // s3rver answers BucketAlreadyExists for a bucket we own too (a racing creator); S3 means another account.
    if (name === 'BucketAlreadyExists' && (await bucketExists(s3, bucket))) return 'exists';
    if (name === 'BucketAlreadyExists') throw new Error(`bucket ${bucket} belongs to another account`);
    throw err;
  }
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    const name = err instanceof Error ? err.name : undefined;
    if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') return false;
    if (status === 403) throw new Error(`bucket ${bucket} exists but this account cannot use it (403)`);
    throw err;
  }
}
