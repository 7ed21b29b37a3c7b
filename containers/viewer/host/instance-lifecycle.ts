import { VIEWER_HOST } from '../../../lambda/contracts/viewer-host';
import type { InstanceMetadata } from './instance-metadata';

/** The Auto Scaling calls a host makes about itself (the SDK's `AutoScaling` client has them). */
export interface LifecycleCalls {
  recordLifecycleActionHeartbeat(input: LifecycleActionTarget): Promise<unknown>;
  completeLifecycleAction(
    input: LifecycleActionTarget & { LifecycleActionResult: 'CONTINUE' },
  ): Promise<unknown>;
  describeAutoScalingInstances(input: {
    InstanceIds: string[];
  }): Promise<{ AutoScalingInstances?: { AutoScalingGroupName?: string }[] }>;
}

export interface LifecycleActionTarget {
  readonly AutoScalingGroupName: string;
  readonly LifecycleHookName: string;
  readonly InstanceId: string;
}

export interface InstanceLifecycleOptions {
  readonly metadata: InstanceMetadata;
  readonly autoScaling: LifecycleCalls;
  /** Refuses new sessions and settles once the host's last session has ended. */
  readonly drain: () => Promise<void>;
  /** @default 5000 */
  readonly pollMs?: number;
  /** Well inside the hook's heartbeat timeout. @default 60000 */
  readonly heartbeatMs?: number;
  readonly log?: (message: string) => void;
}

/** The group and instance the host's lifecycle actions are about. */
export async function lifecycleTarget(
  metadata: InstanceMetadata,
  autoScaling: LifecycleCalls,
): Promise<LifecycleActionTarget> {
  const instanceId = await metadata.instanceId();
  if (!instanceId) throw new Error('the instance metadata has no instance id');
  let group = await metadata.groupName();
  if (!group) {
    // Tags not exposed to the metadata service: Auto Scaling knows the instance's group.
    const described = await autoScaling.describeAutoScalingInstances({ InstanceIds: [instanceId] });
    group = described.AutoScalingInstances?.[0]?.AutoScalingGroupName;
  }
  if (!group) throw new Error(`the instance ${instanceId} belongs to no Auto Scaling group`);
  return {
    AutoScalingGroupName: group,
    LifecycleHookName: VIEWER_HOST.lifecycleHookName,
    InstanceId: instanceId,
  };
}

/**
 * Tells Auto Scaling, at every start, that the host is ready: the `host-ready` hook holds an
 * instance that launches, or starts from the warm pool, until then. Answers whether the instance
 * is headed for the warm pool (`Warmed:*`), where Auto Scaling stops it now that it is prepared.
 * A host container restarted on a running instance finds no action waiting, which Auto Scaling
 * answers with an error that changes nothing.
 */
export async function announceReady(
  metadata: InstanceMetadata,
  autoScaling: LifecycleCalls,
  target: LifecycleActionTarget,
  log: (message: string) => void,
): Promise<{ warmed: boolean }> {
  const state = await metadata.targetLifecycleState();
  try {
    await autoScaling.completeLifecycleAction({
      ...target,
      LifecycleHookName: VIEWER_HOST.launchHookName,
      LifecycleActionResult: 'CONTINUE',
    });
    log(`ready: ${VIEWER_HOST.launchHookName} completed on the way to ${state ?? 'service'}`);
  } catch (err) {
    log(`ready, with no ${VIEWER_HOST.launchHookName} action to complete: ${(err as Error).message}`);
  }
  return { warmed: state?.startsWith('Warmed:') ?? false };
}

/**
 * Watches the instance's target lifecycle state. When Auto Scaling means to terminate it, the
 * host drains: new sessions go elsewhere, open ones run until they end or reach their cap, with
 * a heartbeat holding the lifecycle hook meanwhile; then the hook is completed (CONTINUE) and
 * `finished` settles, for the host to stop.
 */
export function watchInstanceLifecycle(options: InstanceLifecycleOptions): {
  finished: Promise<void>;
  stop(): void;
} {
  const log = options.log ?? ((message: string) => console.error(message));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    const poll = async () => {
      if (stopped) return;
      const state = await options.metadata.targetLifecycleState().catch((err: Error) => {
        log(`lifecycle state unread: ${err.message}`);
        return undefined;
      });
      if (state !== 'Terminated') {
        timer = setTimeout(() => void poll(), options.pollMs ?? 5000);
        return;
      }
      log('the instance is being terminated: draining its sessions');
      const target = await lifecycleTarget(options.metadata, options.autoScaling);
      const heartbeat = setInterval(() => {
        options.autoScaling
          .recordLifecycleActionHeartbeat(target)
          .catch((err: Error) => log(`lifecycle heartbeat failed: ${err.message}`));
      }, options.heartbeatMs ?? 60_000);
      try {
        await options.drain();
      } finally {
        clearInterval(heartbeat);
      }
      await options.autoScaling.completeLifecycleAction({ ...target, LifecycleActionResult: 'CONTINUE' });
      log('sessions drained: lifecycle action completed');
      resolve();
    };
    poll().catch(reject);
  });
  return {
    finished,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
