import { runHost } from './viewer-host';
import { runSessionViewer } from './session-viewer';

/**
 * The viewer host's image runs as one of two programs: `host`, the supervisor of an instance
 * (on the load balancer's port, starting a container of this same image for each session), or
 * `session`, one session's viewer in such a container.
 */
const programs: Record<string, () => Promise<void>> = { host: runHost, session: runSessionViewer };

const name = process.argv[2] ?? 'host';
const program = programs[name];
if (!program) {
  console.error(`unknown program ${name}: the image runs "host" or "session"`);
  process.exit(2);
}
program().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
