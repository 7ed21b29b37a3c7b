import { HandlerPermissions } from '../contracts/permissions';

/**
 * What settling an output image on its job touches (see job-output-settlement.ts), for every
 * handler that ends an output image: the job it reads and moves, and the slots the job gives
 * back when that ends it.
 */
export const JOB_OUTPUT_SETTLEMENT_TABLES = {
  jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  activeJobs: ['dynamodb:UpdateItem'],
} as const satisfies HandlerPermissions['tables'];
