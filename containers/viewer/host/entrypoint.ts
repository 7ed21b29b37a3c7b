import { VIEWER_HOST, VIEWER_HOST_SETTINGS } from '../../../lambda/contracts/viewer-host';
import { startViewerServer } from '../server/viewer-server';
import { volumeEngine } from '../server/volume-engine';

/**
 * A viewer host: the viewer server on the port the load balancer sends to, for the sessions
 * placed in this region, reporting them to the API.
 */
async function main(): Promise<void> {
  const settings = VIEWER_HOST_SETTINGS.read();
  const server = await startViewerServer({
    host: '0.0.0.0',
    port: VIEWER_HOST.port,
    publicKeyPem: settings.sessionPublicKeyPem,
    origin: settings.viewerOrigin,
    volumes: volumeEngine,
    reportUrl: (sessionId) => `${settings.apiUrl}/v1/sessions/${sessionId}/viewer-report`,
  });
  console.log(`viewer host at ${server.url}`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
