import * as z from 'zod/mini';
import { settingsGroup, text, wholeNumber } from './settings';

/**
 * What a viewer host (the process that runs on each instance of a viewer region's fleet) and the
 * stack that deploys it agree on: where the load balancer reaches it, what it answers, the
 * metrics it publishes and the settings it starts with.
 */
export const VIEWER_HOST = {
  /** The port the load balancer sends every request and WebSocket to. */
  port: 8080,
  /**
   * The load balancer's health check: 200 while the host takes new sessions, 503 when it is full
   * or draining, so new sessions go to hosts with room. Open sessions stay where they are.
   */
  healthPath: '/healthz',
  /** Answers 204 at once, for clients measuring their latency to a region. */
  pingPath: '/ping',
  /**
   * The page the load balancer itself answers, which CloudFront shows for its 503 (no host in
   * service yet): it says a viewer is starting and loads the session's address again.
   */
  startingPath: '/viewer-starting',
  /** The lifecycle hook that holds a host being scaled in until its sessions have ended. */
  lifecycleHookName: 'drain-sessions',
  /**
   * The lifecycle hook that holds a launching or starting host out of service (and out of the
   * warm pool) until it is ready: Docker running, the image on disk, the supervisor answering.
   */
  launchHookName: 'host-ready',
  /** Published once a minute per host, with the dimension below (and none, for the region). */
  metrics: {
    /** Sessions the host holds. */
    sessions: 'Sessions',
    /** Sessions the host could still take: 0 when full or draining. */
    freeSlots: 'FreeSlots',
    /** Sessions that could not start on the host (their process failed to start or crashed). */
    sessionStartFailures: 'SessionStartFailures',
    /** Milliseconds from a view request to its frame being sent, per frame (p50/p95 in CloudWatch). */
    frameMilliseconds: 'FrameMilliseconds',
  },
  metricDimension: 'AutoScalingGroupName',
} as const;

/** The namespace of a platform's viewer metrics. */
export const viewerMetricNamespace = (platformName: string) => `${platformName}/Viewer`;

/**
 * The tag every viewer region's Auto Scaling group carries, with the platform's name as its value:
 * the API finds a region's fleet by it, and may set the capacity of groups so tagged and no other.
 */
export const VIEWER_FLEET_TAG = 'imaging-platform:viewer-fleet';

/** The SSM parameter, in each viewer region, that holds the origin of that region's viewer. */
export const viewerEndpointParameter = (platformName: string) => `/${platformName}/viewer/endpoint`;

/** The SSM parameter, in the home region, that holds the public key session credentials verify with. */
export const sessionPublicKeyParameter = (platformName: string) => `/${platformName}/sessions/public-key`;

/**
 * Viewer stacks read the home region's outputs (the API's URL, the session public key); the API
 * finds each region's viewer at run time through `viewerEndpointParameter`, so no stack depends on
 * a stack that depends on it.
 */

const origin = z
  .string()
  .check(z.regex(/^https?:\/\/[^/\s]+$/, 'must be an origin such as https://viewer.example.org'));

/** The settings a viewer host starts with, as environment variables of its container. */
export const VIEWER_HOST_SETTINGS = settingsGroup('the viewer host', {
  /** The origin readers reach this region's viewer at: credentials for another are refused. */
  viewerOrigin: origin,
  /** The API's base URL (`https://.../v1` excluded), where the host reports sessions' states. */
  apiUrl: z.string().check(z.regex(/^https?:\/\/\S+[^/]$/, 'must be a URL without a trailing slash')),
  /** The public key (PEM) session credentials verify with. */
  sessionPublicKeyPem: text,
  /** Sessions one host runs at once. */
  sessionsPerHost: wholeNumber,
  /** Memory one session's process may use, in MiB; past it the process is stopped, not the host. */
  sessionMemoryMiB: wholeNumber,
  /** CPU one session's process may use, in thousandths of a vCPU. */
  sessionMilliCpus: wholeNumber,
  /** CloudWatch namespace of the host's metrics. */
  metricNamespace: text,
});
