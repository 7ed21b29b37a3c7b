import { volumeEngine } from '../containers/viewer/server/volume-engine';
import { startViewerServer, ViewerServer } from '../containers/viewer/server/viewer-server';
import { RunningService } from './services/running-service';

export interface LocalViewerOptions {
  readonly host: string;
  readonly port: number;
  /** The public key session credentials verify with. */
  readonly publicKeyPem: string;
  /** The viewer's origin, as the API names it in sessions (`urls.viewer`). */
  readonly origin: string;
  /** The API's base (`urls.api`), where the viewer reports sessions and takes fresh credentials. */
  readonly apiUrl: string;
}

/**
 * The viewer server of local mode, in local mode's process: it renders the images of sessions
 * that the local API starts, read through the local CloudFront stand-in, and reports to the
 * local API as a deployed viewer reports to the deployed one.
 */
export async function startLocalViewer(options: LocalViewerOptions): Promise<ViewerServer & RunningService> {
  const viewer = await startViewerServer({
    host: options.host,
    port: options.port,
    publicKeyPem: options.publicKeyPem,
    origin: options.origin,
    volumes: volumeEngine,
    reportUrl: (sessionId) => `${options.apiUrl}/v1/sessions/${sessionId}/viewer-report`,
  });
  return { ...viewer, env: {} };
}
