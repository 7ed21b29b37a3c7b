/** Where EC2 serves an instance its metadata. */
export const IMDS_ENDPOINT = 'http://169.254.169.254';
/** Seconds an IMDSv2 token lasts: renewed well before. */
const TOKEN_SECONDS = 21_600;

/**
 * The instance metadata service, version 2 only: a token fetched with PUT, shown on every read.
 * A path the instance has no value for (no lifecycle state yet, tags not exposed) is undefined.
 */
export class InstanceMetadata {
  private token?: { value: string; expiresAtMs: number };

  constructor(private readonly endpoint = IMDS_ENDPOINT) {}

  instanceId(): Promise<string | undefined> {
    return this.read('/latest/meta-data/instance-id');
  }

  /** `InService`, `Terminated`, `Warmed:*`, as Auto Scaling last set it for the instance. */
  targetLifecycleState(): Promise<string | undefined> {
    return this.read('/latest/meta-data/autoscaling/target-lifecycle-state');
  }

  /** The Auto Scaling group, from the instance's tags (the launch template exposes them to IMDS). */
  groupName(): Promise<string | undefined> {
    return this.read('/latest/meta-data/tags/instance/aws:autoscaling:groupName');
  }

  private async read(path: string): Promise<string | undefined> {
    const response = await fetch(`${this.endpoint}${path}`, {
      headers: { 'x-aws-ec2-metadata-token': await this.tokenValue() },
      signal: AbortSignal.timeout(2000),
    });
    if (response.status === 404) return undefined;
    if (response.status === 401) this.token = undefined;
    if (!response.ok) throw new Error(`instance metadata ${path} answered ${response.status}`);
    return (await response.text()).trim();
  }

  private async tokenValue(): Promise<string> {
    if (this.token && this.token.expiresAtMs > Date.now() + 60_000) return this.token.value;
    const response = await fetch(`${this.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_SECONDS) },
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) throw new Error(`instance metadata refused a token with ${response.status}`);
    this.token = { value: await response.text(), expiresAtMs: Date.now() + TOKEN_SECONDS * 1000 };
    return this.token.value;
  }
}
