import type * as http from 'node:http';
import { VIEWER_HOST } from '../../../lambda/contracts/viewer-host';
import { clientBundle } from './deploy';
import { PAGE_POLICY, SECURITY_HEADERS, viewerPage } from './viewer-page';

/** Session ids and image ids are opaque tokens: anything else is no route. */
export const ID = '[A-Za-z0-9_-]{1,128}';
const PAGE = new RegExp(`^/sessions/(${ID})$`);

/**
 * Answers the routes that need no ticket, the same on a viewer and on the host in front of its
 * sessions: the ping clients time to find their nearest region, the browser client, and a
 * session's page. False for any other request, which is the caller's to answer.
 */
export async function answerPageRoute(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
): Promise<boolean> {
  const reads = req.method === 'GET' || req.method === 'HEAD';
  if (pathname === VIEWER_HOST.pingPath && reads) {
    // Nothing to read, so any page may time it.
    res.writeHead(204, {
      ...SECURITY_HEADERS,
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      'timing-allow-origin': '*',
    });
    res.end();
    return true;
  }
  if (pathname === '/viewer/client.js' && req.method === 'GET') {
    const code = await clientBundle();
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'no-cache',
    });
    res.end(code);
    return true;
  }
  if (PAGE.test(pathname) && req.method === 'GET') {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_POLICY,
      'cache-control': 'no-store',
    });
    res.end(viewerPage());
    return true;
  }
  return false;
}
