import { BackgroundFunction } from '../../contracts/handler-deployment';

/** Every quarter hour, corrects active-job counters that no job holds (slots a crash leaked). */
export const backgroundFunction: BackgroundFunction = {
  handler: 'jobs/reconcile-job-slots',
  description: 'Corrects active-job counters against the jobs that hold slots',
  trigger: { kind: 'schedule', everyMinutes: 15 },
  sizing: { timeoutSeconds: 300 },
  permissions: {
    tables: { jobs: ['dynamodb:Scan'], activeJobs: ['dynamodb:Scan', 'dynamodb:UpdateItem'] },
  },
};
