/**
 * The runbook's sections (docs/operations.md) that alarms point to: each alarm's description
 * names its section, and a test checks that each section is there.
 */
export const RUNBOOK_SECTIONS = {
  deadLetters: 'dead-letter-messages',
  queueBacklog: 'work-queue-backlog',
  functionErrors: 'function-errors',
  functionThrottles: 'function-throttles',
  apiServerErrors: 'api-server-errors',
  apiLatency: 'api-latency',
  firewallBlocks: 'firewall-blocks',
  jobsWaiting: 'jobs-waiting-runnable',
  platformJobFailures: 'jobs-failed-by-the-platform',
  bootFailures: 'job-instances-failing-at-boot',
  spend: 'spend-over-budget',
  viewerNoFreeSlots: 'viewer-sessions-without-a-free-slot',
  viewerSilentHosts: 'viewer-hosts-not-reporting',
  viewerSessionStartFailures: 'viewer-session-start-failures',
} as const;

export type RunbookSection = (typeof RUNBOOK_SECTIONS)[keyof typeof RUNBOOK_SECTIONS];

export const RUNBOOK = 'docs/operations.md';

/** What an alarm's description ends with: where its runbook section is. */
export const runbookLink = (section: RunbookSection) => `What to do: ${RUNBOOK}#${section}`;
