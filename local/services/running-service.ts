/**
 * A local service that runs: the variables that point AWS SDK clients at it (for a service that
 * stands in for an AWS API, `AWS_ENDPOINT_URL_<SERVICE>`), and how to stop it.
 */
export interface RunningService {
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}
