/** Whether this machine can build at all; only local mode, which builds in its container engine, has one. */
export type LocalBuildCheck = () => Promise<void>;

let localBuildCheck: LocalBuildCheck | undefined;

/** Set by local mode where it starts the function; a deployed function never has one. */
export function useLocalBuildCheck(check: LocalBuildCheck): void {
  localBuildCheck = check;
}

/** Refuses a build that cannot run here (local mode without a container engine); a deployment always builds. */
export async function checkBuildsCanRun(): Promise<void> {
  if (localBuildCheck) await localBuildCheck();
}
