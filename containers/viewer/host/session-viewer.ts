import * as http from 'node:http';
import { startViewerServer } from '../server/viewer-server';
import { volumeEngine } from '../server/volume-engine';
import {
  HOST_TOKEN_HEADER,
  HOST_TOKEN_VARIABLE,
  SESSION_FRAMES_PORT,
  SESSION_VIEWER_PORT,
} from './session-containers';
import { SESSION_VIEWER_SETTINGS } from './supervisor-settings';
import { VIEWER_HOST_SETTINGS } from '../../../lambda/contracts/viewer-host';

/**
 * One session's viewer, in its own container on a viewer host: the viewer server holding the
 * first session it admits and no other. It ends (and its container with it) when the session
 * expires, or when no socket of it has been open for the idle time: the reader has gone, or
 * resumed on another host. It tells the host its frame times on a port the host alone reaches.
 */
export async function runSessionViewer(): Promise<void> {
  const settings = VIEWER_HOST_SETTINGS.read();
  const { sessionIdleSeconds } = SESSION_VIEWER_SETTINGS.read();
  const frameMilliseconds: number[] = [];
  const token = process.env[HOST_TOKEN_VARIABLE];
  if (!token)
    throw new Error(`${HOST_TOKEN_VARIABLE} is not set: only a viewer host starts a session viewer`);
  // Read once: nothing the viewer runs later finds it in the environment.
  delete process.env[HOST_TOKEN_VARIABLE];
  let idleTimer: NodeJS.Timeout | undefined;
  const end = (why: string) => {
    console.log(`session viewer ends: ${why}`);
    process.exit(0);
  };
  const server = await startViewerServer({
    host: '0.0.0.0',
    port: SESSION_VIEWER_PORT,
    publicKeyPem: settings.sessionPublicKeyPem,
    origin: settings.viewerOrigin,
    volumes: volumeEngine,
    reportUrl: (sessionId) => `${settings.apiUrl}/v1/sessions/${sessionId}/viewer-report`,
    oneSession: true,
    requiredHeader: { name: HOST_TOKEN_HEADER, value: token },
    onSessionActivity: ({ openSockets, expired }) => {
      if (expired) return end('the session expired');
      clearTimeout(idleTimer);
      if (openSockets === 0) {
        idleTimer = setTimeout(() => end('no reader for the idle time'), sessionIdleSeconds * 1000);
      }
    },
    // Bounded: the host reads them once a minute.
    onFrame: (ms) => void (frameMilliseconds.length < 100_000 && frameMilliseconds.push(ms)),
  });
  const frames = http.createServer((req, res) => {
    if (req.url !== '/frames' || req.method !== 'POST') return void res.writeHead(404).end();
    if (req.headers[HOST_TOKEN_HEADER] !== token) return void res.writeHead(403).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(frameMilliseconds.splice(0)));
  });
  frames.listen(SESSION_FRAMES_PORT, '0.0.0.0');
  console.log(`session viewer at ${server.url}`);
  process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}
