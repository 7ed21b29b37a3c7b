import { AutoScaling } from '@aws-sdk/client-auto-scaling';
import { CloudWatch } from '@aws-sdk/client-cloudwatch';
import { Settings } from '../../../lambda/contracts/settings';
import { VIEWER_HOST_SETTINGS } from '../../../lambda/contracts/viewer-host';
import { EngineApi } from './engine-api';
import { MetricCalls, publishHostMetrics } from './host-metrics';
import { InstanceMetadata } from './instance-metadata';
import { announceReady, LifecycleCalls, lifecycleTarget, watchInstanceLifecycle } from './instance-lifecycle';
import { ProtectionCalls, protectWhileBusy } from './scale-in-protection';
import { SessionContainers, SessionContainersOptions } from './session-containers';
import { SESSION_VIEWER_SETTINGS, VIEWER_SUPERVISOR_SETTINGS } from './supervisor-settings';
import { startSupervisor, Supervisor } from './supervisor';

export interface ViewerHostOptions {
  readonly settings: Settings<typeof VIEWER_HOST_SETTINGS.shape>;
  readonly supervisorSettings: Settings<typeof VIEWER_SUPERVISOR_SETTINGS.shape>;
  readonly metadata: InstanceMetadata;
  readonly autoScaling: LifecycleCalls & ProtectionCalls;
  readonly cloudWatch: MetricCalls;
  /** @default VIEWER_HOST.port */
  readonly port?: number;
  /** Limits the engine must be given explicitly on some machines. @default - the engine's */
  readonly ulimits?: SessionContainersOptions['ulimits'];
  /** How often the lifecycle state is read and heartbeats sent, metrics published. @default - 5 s, 60 s, 60 s */
  readonly intervals?: {
    readonly lifecyclePollMs?: number;
    readonly heartbeatMs?: number;
    readonly metricsMs?: number;
  };
  readonly log?: (message: string) => void;
}

export interface ViewerHost {
  readonly supervisor: Supervisor;
  /** Drains the host as SIGTERM does: new sessions refused, open ones run to their end. */
  drain(): Promise<void>;
  /** Settles once the host has stopped: drained (its lifecycle action completed) or stopped. */
  readonly stopped: Promise<void>;
  /** Stops at once, open sessions with it. */
  stop(): Promise<void>;
}

/**
 * A viewer host on an EC2 instance of its region's fleet: the supervisor on the load balancer's
 * port, its sessions in containers of their own, Auto Scaling told it is ready, its metrics
 * published once a minute, and, when
 * Auto Scaling terminates the instance, its sessions drained before its lifecycle action is
 * completed and it stops.
 */
export async function startViewerHost(options: ViewerHostOptions): Promise<ViewerHost> {
  const { settings, supervisorSettings, metadata, autoScaling } = options;
  const log = options.log ?? ((message: string) => console.error(message));
  const target = await lifecycleTarget(metadata, autoScaling);
  const containers = new SessionContainers({
    engine: new EngineApi(supervisorSettings.containerEngineSocket),
    image: supervisorSettings.sessionImage,
    hostId: target.InstanceId,
    env: {
      ...VIEWER_HOST_SETTINGS.variables(settings),
      ...SESSION_VIEWER_SETTINGS.variables({ sessionIdleSeconds: supervisorSettings.sessionIdleSeconds }),
    },
    memoryMiB: settings.sessionMemoryMiB,
    milliCpus: settings.sessionMilliCpus,
    ulimits: options.ulimits,
  });
  // Session viewers left by a supervisor that died on this instance hold no session it can reach.
  await containers.removeAll();
  const supervisor = await startSupervisor({
    port: options.port,
    publicKeyPem: settings.sessionPublicKeyPem,
    origin: settings.viewerOrigin,
    sessionsPerHost: settings.sessionsPerHost,
    containers,
    warmSessionViewers: supervisorSettings.warmSessionViewers,
    log,
  });
  const { warmed } = await announceReady(metadata, autoScaling, target, log);
  if (warmed) {
    // Prepared for the warm pool: Auto Scaling stops the instance, and Docker starts this
    // container again when the instance starts in service. Until then it counts for nothing.
    log('ready in the warm pool: waiting to be stopped');
    return idleHost(supervisor);
  }
  const metrics = publishHostMetrics({
    cloudWatch: options.cloudWatch,
    namespace: settings.metricNamespace,
    groupName: target.AutoScalingGroupName,
    sample: () => supervisor.sample(),
    intervalMs: options.intervals?.metricsMs,
    log,
  });
  const lifecycle = watchInstanceLifecycle({
    metadata,
    autoScaling,
    drain: () => supervisor.drain(),
    pollMs: options.intervals?.lifecyclePollMs,
    heartbeatMs: options.intervals?.heartbeatMs,
    log,
  });
  const protection = protectWhileBusy({
    autoScaling,
    groupName: target.AutoScalingGroupName,
    instanceId: target.InstanceId,
    busy: () => supervisor.status().sessions > 0,
    intervalMs: options.intervals?.lifecyclePollMs,
    log,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      lifecycle.stop();
      protection.stop();
      await metrics.stop();
      await supervisor.stop();
    })();
    return stopping;
  };
  let stoppedResolve!: () => void;
  const stopped = new Promise<void>((resolve) => (stoppedResolve = resolve));
  const stopAndTell = () => stop().then(stoppedResolve);
  lifecycle.finished.then(stopAndTell, (err: Error) => log(`draining failed: ${err.message}`));
  return {
    supervisor,
    drain: async () => {
      await supervisor.drain();
      await stopAndTell();
    },
    stopped,
    stop: stopAndTell,
  };
}

/** A host in the warm pool: it publishes nothing and takes no session before being stopped. */
async function idleHost(supervisor: Supervisor): Promise<ViewerHost> {
  await supervisor.drain();
  let stoppedResolve!: () => void;
  const stopped = new Promise<void>((resolve) => (stoppedResolve = resolve));
  const stop = () => supervisor.stop().then(stoppedResolve);
  return { supervisor, drain: stop, stopped, stop };
}

/** The host's program in its image: settings from the environment, AWS through the SDK. */
export async function runHost(): Promise<void> {
  const host = await startViewerHost({
    settings: VIEWER_HOST_SETTINGS.read(),
    supervisorSettings: VIEWER_SUPERVISOR_SETTINGS.read(),
    metadata: new InstanceMetadata(),
    autoScaling: new AutoScaling({}),
    cloudWatch: new CloudWatch({}),
  });
  console.log(`viewer host at ${host.supervisor.url}`);
  // Stopped by its engine (the instance shutting down): new sessions go elsewhere, open ones end first.
  process.once('SIGTERM', () => void host.drain());
  await host.stopped;
  process.exit(0);
}
