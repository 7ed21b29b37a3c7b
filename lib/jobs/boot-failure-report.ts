/**
 * What a job instance's boot hook writes, as a JSON line, to the boot failure log group before it
 * shuts the instance down; a metric filter counts these lines (`JobAlarms`).
 */
export const BOOT_HOOK_FAILED = 'job instance boot hook failed';

export interface BootFailureReport {
  /** The log group that hears of failed boot hooks, one stream per instance. */
  readonly logGroupName: string;
  /** @default 'http://169.254.169.254' */
  readonly metadataEndpoint?: string;
  /**
   * @default - CloudWatch Logs of the instance's region, which the job network reaches through
   * its interface endpoint
   */
  readonly logsEndpoint?: string;
}

/**
 * The ERR trap of a boot hook: it says which step failed, tells the boot failure log group
 * (when `report` names one) and shuts the instance down, which its launch template turns into
 * termination. Batch then launches another instance, which fails the same way and bills again:
 * the log group is how an operator hears of it. The report is signed with the instance role's
 * credentials by curl itself (`--aws-sigv4`; the ECS-optimized images carry no AWS CLI), reached
 * as root, whom the metadata guard lets through; any failure of the report is ignored, and the
 * instance shuts down regardless.
 */
export function bootFailureTrap(step: string, report?: BootFailureReport): string {
  const say = `echo "${step} failed: shutting down before any job runs" >&2`;
  if (!report) return `trap '${say}; shutdown -h now' ERR`;
  const metadata = report.metadataEndpoint ?? 'http://169.254.169.254';
  const message = `{\\\\\\"message\\\\\\":\\\\\\"${BOOT_HOOK_FAILED}\\\\\\",\\\\\\"step\\\\\\":\\\\\\"${step}\\\\\\",\\\\\\"instanceId\\\\\\":\\\\\\"$id\\\\\\",\\\\\\"instanceType\\\\\\":\\\\\\"$type\\\\\\"}`;
  return [
    'report_boot_failure() {',
    `  local token id type region role creds key secret session group='${report.logGroupName}'`,
    `  token=$(curl -sf -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${metadata}/latest/api/token) || return 0`,
    `  md() { curl -sf -m 2 -H "X-aws-ec2-metadata-token: $token" "${metadata}/latest/meta-data/$1"; }`,
    '  id=$(md instance-id) && type=$(md instance-type) && region=$(md placement/region) || return 0',
    '  role=$(md iam/security-credentials/) && creds=$(md "iam/security-credentials/$role") || return 0',
    `  field() { printf '%s\\n' "$creds" | sed -n "s/.*\\"$1\\" *: *\\"\\([^\\"]*\\)\\".*/\\1/p"; }`,
    '  key=$(field AccessKeyId) secret=$(field SecretAccessKey) session=$(field Token)',
    '  logs() {',
    '    curl -sf -m 5 --aws-sigv4 "aws:amz:$region:logs" --user "$key:$secret" -H "x-amz-security-token: $session" \\',
    `      -H "X-Amz-Target: Logs_20140328.$1" -H 'Content-Type: application/x-amz-json-1.1' -d "$2" "${report.logsEndpoint ?? 'https://logs.$region.amazonaws.com'}/" >/dev/null`,
    '  }',
    // A second boot of the same instance finds its stream there.
    '  logs CreateLogStream "{\\"logGroupName\\":\\"$group\\",\\"logStreamName\\":\\"$id\\"}"',
    `  logs PutLogEvents "{\\"logGroupName\\":\\"$group\\",\\"logStreamName\\":\\"$id\\",\\"logEvents\\":[{\\"timestamp\\":$(date +%s%3N),\\"message\\":\\"${message}\\"}]}"`,
    '}',
    `trap 'trap - ERR; set +e; ${say}; report_boot_failure; shutdown -h now' ERR`,
  ].join('\n');
}
