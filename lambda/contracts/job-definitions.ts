import * as z from 'zod/mini';
import { flag, settingsGroup, text } from './settings';

/**
 * What an algorithm version's job definition is registered with: its name's prefix (the
 * algorithm's id follows), the role the runner holds and the role that pulls the image.
 */
export const JOB_DEFINITIONS = settingsGroup('the job definitions', {
  jobDefinitionPrefix: text,
  jobRoleArn: text,
  jobExecutionRoleArn: text,
});

/** What an image must pass before a version of it becomes active. */
export const IMAGE_CHECKS = settingsGroup('the image checks', {
  /** Whether an image whose scan found critical vulnerabilities may become active. */
  imageCriticalFindings: z.enum(['refuse', 'allow']),
  /** Local mode only: algorithms may name images built on its machine (`localhost/...`). */
  localImagesAllowed: flag,
});
