import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { VIEWER_FLEET_TAG } from '../contracts/viewer-host';
import { regionalClient } from '../core/aws-clients';
import { VIEWER_SESSIONS } from '../contracts/viewer-sessions';

/**
 * A fleet seen running is not asked again for this long: a session starting in a region where
 * one started a minute ago costs no call, and a fleet that had a session cannot have gone idle.
 */
const RUNNING_KNOWN_MS = 60_000;

const runningSeenAtMs = new Map<string, number>();

/**
 * What waking a region's fleet found: a host in service; none yet, but one on its way (started
 * now, or earlier and still booting or waiting on its launch hook); none and none allowed (its
 * maximum is 0); or no fleet at all.
 */
export type FleetWake = 'running' | 'starting' | 'off' | 'absent';

/**
 * Starts a host in `region` when its fleet has none (its desired capacity is 0, as at night or
 * before the first reader): the session's client then waits for the host itself, not for an
 * alarm to notice the load balancer's 503s, which takes a minute or two more. A fleet with hosts
 * is left to its scaling policies.
 */
export async function wakeViewerFleet(region: string): Promise<FleetWake> {
  const seenAt = runningSeenAtMs.get(region);
  if (seenAt !== undefined && Date.now() - seenAt < RUNNING_KNOWN_MS) return 'running';
  const client = regionalClient(AutoScalingClient, region);
  const { AutoScalingGroups: groups = [] } = await client.send(
    new DescribeAutoScalingGroupsCommand({
      Filters: [{ Name: `tag:${VIEWER_FLEET_TAG}`, Values: [VIEWER_SESSIONS.read().viewerFleetName] }],
    }),
  );
  if (groups.length === 0) return 'absent';
  if (groups.some((group) => group.Instances?.some((instance) => instance.LifecycleState === 'InService'))) {
    runningSeenAtMs.set(region, Date.now());
    return 'running';
  }
  let wake: FleetWake = 'off';
  for (const group of groups) {
    if ((group.MaxSize ?? 0) < 1) continue;
    wake = 'starting';
    if ((group.DesiredCapacity ?? 0) > 0) continue;
    // Idempotent: two sessions waking the same fleet at once both ask for the one host.
    await client.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: group.AutoScalingGroupName,
        DesiredCapacity: 1,
        HonorCooldown: false,
      }),
    );
  }
  return wake;
}
