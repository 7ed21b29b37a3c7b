import type { FleetWake } from './viewer-fleets';

/** States of a viewer session; `Queued` waits for a viewer host its region's fleet is starting. */
export const SESSION_STATUSES = ['Queued', 'Started', 'Running', 'Stopped', 'Failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A session lasts this long from its start. */
export const SESSION_START_SECONDS = 600;
/** Each keep-alive (or report of an active reader) extends it to this long from now, up to its cap. */
export const KEEP_ALIVE_SECONDS = 300;
/** How long a session's record is kept after its cap, for its owner to look back at. */
export const SESSION_RECORD_DAYS = 30;
/** A reason a viewer reports is cut to this many characters. */
export const MAX_FAILURE_REASON_CHARS = 1000;

/** What the viewer does with a file: renders an `.mha` volume, serves tiles of a pyramidal `.tif`. */
export type SessionImageKind = 'volume' | 'slide';

export interface SessionOverlayRecord {
  readonly id: string;
  readonly name: string;
  /** Key of its converted file in the imaging bucket. */
  readonly key: string;
}

export interface SessionImageRecord extends SessionOverlayRecord {
  readonly kind: SessionImageKind;
  readonly overlays: readonly SessionOverlayRecord[];
}

/** A session as stored in the sessions table; times in epoch seconds. */
export interface SessionRecord {
  readonly id: string;
  readonly owner: string;
  readonly status: SessionStatus;
  readonly statusReason?: string;
  /** The viewer region it counts against. */
  readonly region: string;
  readonly viewerOrigin: string;
  readonly images: readonly SessionImageRecord[];
  /** The job whose inputs and outputs it shows, when opened for a job. */
  readonly job?: string;
  /** The limit slots it holds (see session-slots.ts). */
  readonly slots: readonly string[];
  readonly expiresAt: number;
  /** The cap: no keep-alive extends it past this. */
  readonly maxExpiresAt: number;
  /** When DynamoDB may delete the record: `SESSION_RECORD_DAYS` after the cap. */
  readonly purgeAt: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * How a new session starts: Queued, saying why, when its region's fleet had no host and one is on
 * its way (`wake`, from `viewer-fleets.ts`); Started otherwise, a host there or no fleet to wake.
 */
export function startingStatus(
  wake: FleetWake | undefined,
  region: string,
): Pick<SessionRecord, 'status' | 'statusReason'> {
  return wake === 'starting'
    ? {
        status: 'Queued',
        statusReason: `no viewer host was running in ${region}: one is starting, and the viewer opens once it is ready, in about a minute`,
      }
    : { status: 'Started' };
}

/** The states of a session that has not ended, until its expiry. */
const LIVE_STATUSES = ['Queued', 'Started', 'Running'] as const satisfies readonly SessionStatus[];

const live = (status: SessionStatus) => (LIVE_STATUSES as readonly SessionStatus[]).includes(status);

/** Whether a session still runs at `now`: queued, started or running, and not past its expiry. */
export function isLive(session: SessionRecord, now: number): boolean {
  return live(session.status) && session.expiresAt > now;
}

/** The status as of `now`: a running session past its expiry has stopped, with no write needed. */
export function statusAt(session: SessionRecord, now: number): { status: SessionStatus; reason?: string } {
  if (live(session.status) && session.expiresAt <= now) {
    return { status: 'Stopped', reason: 'the session expired' };
  }
  return { status: session.status, ...(session.statusReason && { reason: session.statusReason }) };
}

export const viewerUrlOf = (session: Pick<SessionRecord, 'id' | 'viewerOrigin'>) =>
  `${session.viewerOrigin}/sessions/${session.id}`;

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** What the API shows of a session; `credential` only in the answers that sign one. */
export function sessionView(session: SessionRecord, now: number, credential?: string) {
  const { status, reason } = statusAt(session, now);
  return {
    id: session.id,
    status,
    ...(reason && { statusReason: reason }),
    region: session.region,
    viewerUrl: viewerUrlOf(session),
    ...(credential && { credential }),
    expiresAt: iso(session.expiresAt),
    maxExpiresAt: iso(session.maxExpiresAt),
    images: session.images.map((image) => ({
      id: image.id,
      name: image.name,
      kind: image.kind,
      overlays: image.overlays.map((overlay) => ({ id: overlay.id, name: overlay.name })),
    })),
    ...(session.job && { job: session.job }),
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
  };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
