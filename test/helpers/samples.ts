/**
 * Where the real CloudTrail records live: `../shared/samples` beside the checkout, or SES_AUDIT_SAMPLES
 * (set by stryker.config.mjs, whose copy of the project sits elsewhere). Tests that read them skip with a
 * note when the folder is absent.
 */
import { join } from 'node:path';

export const SAMPLES_DIR: string = process.env.SES_AUDIT_SAMPLES || join(import.meta.dirname, '../../../shared/samples');
