import { WINDOW_PRESETS } from './volume/view-state';

/** Headers of every answer of the viewer. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The page's content security policy: its own script, frames drawn from blobs, nothing framed. */
export const PAGE_POLICY =
  "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

/** The page of every session: a shell with no data and no secret; the client fills it in. */
export function viewerPage(): string {
  const presets = WINDOW_PRESETS.map((p) => `${p.key} ${p.name}`).join(', ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Viewer</title>
<style>
  html, body { margin: 0; height: 100%; background: #111; color: #ddd; font: 13px system-ui, sans-serif; }
  body { display: grid; grid-template-rows: auto 1fr auto; }
  header, footer { padding: 4px 8px; background: #1c1c1c; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header label { display: inline-flex; gap: 4px; align-items: center; }
  header select, header input, header button { background: #2a2a2a; color: #ddd; border: 1px solid #444; }
  header button[aria-pressed="true"] { background: #345; }
  main { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2px; min-height: 0; }
  main.slide { grid-template-columns: 1fr; }
  .view { position: relative; min-width: 0; min-height: 0; background: #000; }
  .view canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
  .view .label { position: absolute; left: 6px; top: 4px; pointer-events: none; text-shadow: 0 0 2px #000; }
  .slide-view { width: 100%; height: 100%; }
  #status[data-kind="error"] { color: #f88; }
  #help { color: #999; }
  body[data-kind="slide"] .volume-only { display: none; }
</style>
</head>
<body>
<header>
  <label>Image <select id="image"></select></label>
  <label class="volume-only">Overlay <select id="overlay"></select></label>
  <label class="volume-only">Opacity <input id="opacity" type="range" min="0" max="1" step="0.05" value="0.5"></label>
  <label class="volume-only">Slab <select id="slab"><option value="">none</option><option value="mip">MIP</option><option value="minip">MinIP</option><option value="average">average</option></select></label>
  <label class="volume-only">Thickness (mm) <input id="thickness" type="number" min="0" step="1" value="10" style="width: 5em"></label>
  <label class="volume-only">Time point <input id="timepoint" type="number" min="0" step="1" value="0" style="width: 4em"></label>
  <button id="tool-length" class="volume-only" aria-pressed="false">Length</button>
  <button id="tool-region" class="volume-only" aria-pressed="false">ROI</button>
</header>
<main id="views"></main>
<footer>
  <span id="status" role="status">Starting</span>
  <span id="readout"></span>
  <span id="measurement"></span>
  <span id="help" class="volume-only">Click: crosshair · wheel: slices · left drag: window/level · shift+drag or middle drag: pan · ctrl+wheel or +/-: zoom · ${presets} · r: reset</span>
</footer>
<script src="/viewer/client.js"></script>
</body>
</html>
`;
}
