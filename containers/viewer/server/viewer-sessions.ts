import { randomBytes } from 'node:crypto';
import {
  CredentialRefused,
  SessionCredential,
  verifySessionCredential,
} from '../../../lambda/contracts/session-credential';

/** What the viewer reports of a session to the API. */
export type ViewerReport = 'Running' | 'Failed' | 'Active';

/** Reports of activity are sent at most this often: each extends the session. */
export const ACTIVE_REPORT_INTERVAL_MS = 60_000;

export interface ViewerSessionsOptions {
  readonly publicKeyPem: string;
  /**
   * The viewer's own origin: credentials made for another viewer are refused.
   * @default - any origin
   */
  readonly origin?: string;
  /**
   * Where the API takes the viewer's reports of a session; the answer carries a fresh credential.
   * @default - no reports: a session ends at its credential's expiry
   */
  readonly reportUrl?: (sessionId: string) => string;
  /** Called when a session ends at its expiry, to close its sockets and free its volumes. */
  readonly onExpired: (session: ViewerSession) => void;
  /** Called when a report extends a session. */
  readonly onExtended: (session: ViewerSession) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A session held by this viewer: its credential (the newest it was given) and its tickets. */
export interface ViewerSession {
  readonly sessionId: string;
  credential: SessionCredential;
  /** The credential as signed text: what reports to the API authenticate with. */
  credentialText: string;
  /** Resources hung on the session (volumes, slides), freed when it ends. */
  readonly resources: Map<string, unknown>;
  expiryTimer?: NodeJS.Timeout;
  reported: { running: boolean; activeAtMs: number };
}

/** Timers past this many milliseconds fire at once in Node; a later expiry is rescheduled. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * The sessions a viewer holds in memory. A reader's page hands in the session's credential once;
 * it gets back a ticket (a random value sent as a cookie) that every other request of the page
 * shows. A ticket is worth what its session's credential is worth: nothing once it has expired.
 */
export class ViewerSessions {
  private readonly sessions = new Map<string, ViewerSession>();
  private readonly tickets = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly options: ViewerSessionsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Checks the credential (signature, session, expiry, viewer) and holds its session; a ticket for
   * it. Throws `CredentialRefused` saying why otherwise.
   */
  admit(sessionId: string, credentialText: string): { session: ViewerSession; ticket: string } {
    const credential = this.verify(sessionId, credentialText);
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = {
        sessionId,
        credential,
        credentialText,
        resources: new Map(),
        reported: { running: false, activeAtMs: 0 },
      };
      this.sessions.set(sessionId, session);
      this.scheduleExpiry(session);
    } else if (credential.userId !== session.credential.userId) {
      throw new CredentialRefused('otherUser', 'the session credential is for another user');
    } else if (credential.expiresAt > session.credential.expiresAt) {
      this.adopt(session, credential, credentialText);
    }
    const ticket = randomBytes(32).toString('base64url');
    this.tickets.set(ticket, sessionId);
    return { session, ticket };
  }

  /** The session the ticket was given for, if it is `sessionId` and has not expired. */
  byTicket(sessionId: string, ticket: string | undefined): ViewerSession | undefined {
    if (!ticket || this.tickets.get(ticket) !== sessionId) return undefined;
    const session = this.sessions.get(sessionId);
    if (!session || session.credential.expiresAt * 1000 <= this.now()) return undefined;
    return session;
  }

  /** Tells the API how the session goes; `Active` at most once a minute. Adopts the credential it answers. */
  async report(session: ViewerSession, state: ViewerReport, reason?: string): Promise<void> {
    const { reportUrl } = this.options;
    if (!reportUrl || !this.sessions.has(session.sessionId)) return;
    if (state === 'Running') {
      if (session.reported.running) return;
      session.reported.running = true;
    }
    if (state === 'Active') {
      if (this.now() - session.reported.activeAtMs < ACTIVE_REPORT_INTERVAL_MS) return;
    }
    session.reported.activeAtMs = this.now();
    const response = await fetch(reportUrl(session.sessionId), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.credentialText}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state, ...(reason && { reason: reason.slice(0, 1000) }) }),
    });
    if (!response.ok) {
      throw new Error(`the API refused the viewer's ${state} report with ${response.status}`);
    }
    const answer = (await response.json()) as { credential?: unknown };
    if (typeof answer.credential !== 'string') return;
    const credential = this.verify(session.sessionId, answer.credential);
    if (credential.expiresAt > session.credential.expiresAt && this.sessions.has(session.sessionId)) {
      this.adopt(session, credential, answer.credential);
      this.options.onExtended(session);
    }
  }

  /** Ends every session, as the viewer stops. */
  clear(): void {
    for (const session of this.sessions.values()) clearTimeout(session.expiryTimer);
    this.sessions.clear();
    this.tickets.clear();
  }

  private verify(sessionId: string, credentialText: string): SessionCredential {
    const credential = verifySessionCredential(credentialText, this.options.publicKeyPem, {
      sessionId,
      nowSeconds: Math.floor(this.now() / 1000),
    });
    if (this.options.origin && credential.viewerOrigin !== this.options.origin) {
      throw new CredentialRefused('otherViewer', 'the session credential is for another viewer');
    }
    return credential;
  }

  private adopt(session: ViewerSession, credential: SessionCredential, text: string): void {
    session.credential = credential;
    session.credentialText = text;
    this.scheduleExpiry(session);
  }

  private scheduleExpiry(session: ViewerSession): void {
    clearTimeout(session.expiryTimer);
    const remaining = session.credential.expiresAt * 1000 - this.now();
    session.expiryTimer = setTimeout(
      () => {
        if (session.credential.expiresAt * 1000 > this.now()) return this.scheduleExpiry(session);
        this.sessions.delete(session.sessionId);
        for (const [ticket, sessionId] of this.tickets) {
          if (sessionId === session.sessionId) this.tickets.delete(ticket);
        }
        this.options.onExpired(session);
      },
      Math.max(0, Math.min(remaining, LONGEST_TIMER_MS)),
    );
    session.expiryTimer.unref();
  }
}
