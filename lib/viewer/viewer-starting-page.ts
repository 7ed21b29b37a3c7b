/** Seconds between a waiting reader's page tries: a host starts in about a minute. */
const RETRY_SECONDS = 5;

/**
 * What a reader sees while their region has no host in service (at night, or before the first
 * session): the load balancer answers it itself (a fixed response holds at most 1,024
 * characters), and CloudFront shows it in place of the 503. Reloading keeps the address's
 * `#credential` fragment, which the viewer's page takes once it is served.
 */
export const VIEWER_STARTING_PAGE = [
  '<!doctype html><html lang="en"><head><meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width">',
  `<noscript><meta http-equiv="refresh" content="${RETRY_SECONDS}"></noscript>`,
  '<title>Starting a viewer</title></head>',
  '<body style="font:16px system-ui,sans-serif;margin:3em;max-width:36em">',
  '<h1 style="font-size:1.4em">Starting a viewer for your session</h1>',
  '<p>No viewer was running in this region: one is starting now, which takes about a minute.',
  ' This page opens your session by itself as soon as it is ready.</p>',
  `<script>setTimeout(function(){location.reload()},${RETRY_SECONDS * 1000})</script>`,
  '</body></html>',
].join('');
