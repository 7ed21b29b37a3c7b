import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of every handler: JSON lines, with the request id appended by each handler. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'imaging-platform' });
