import { ServerMessage, SessionImageSummary, VIEW_BOUNDS, viewerPaths } from '../protocol';
import type { SlideTileSource } from '../slides/slide-tile-source';
import type { Slab } from '../volume/view-state';
import { OpenedSession, openSession, renewTicket, SessionSocket } from './session-connection';
import { sessionTileUrl, showSlide, SlideView } from './slide-view';
import { Tool, VolumeViews } from './volume-views';

/** The page of a session: `/sessions/{sessionId}#credential=...`. */
async function main(): Promise<void> {
  const sessionId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const statusLine = element<HTMLElement>('status');
  const status = (text: string, kind: 'info' | 'error' = 'info') => {
    // An error stays until something else goes wrong: progress does not hide it.
    if (statusLine.dataset.kind === 'error' && kind === 'info') return;
    statusLine.textContent = text;
    statusLine.dataset.kind = kind;
  };

  let session: OpenedSession;
  try {
    session = await openSession(sessionId);
  } catch (err) {
    return status((err as Error).message, 'error');
  }

  const imageSelect = element<HTMLSelectElement>('image');
  const overlaySelect = element<HTMLSelectElement>('overlay');
  const opacity = element<HTMLInputElement>('opacity');
  const slabMode = element<HTMLSelectElement>('slab');
  const thickness = element<HTMLInputElement>('thickness');
  const timepoint = element<HTMLInputElement>('timepoint');
  const toolButtons: Record<Exclude<Tool, 'navigate'>, HTMLButtonElement> = {
    length: element('tool-length'),
    region: element('tool-region'),
  };
  const views = element<HTMLElement>('views');
  let tool: Tool = 'navigate';
  let shown: VolumeViews | undefined;
  let slide: SlideView | undefined;

  const showSlideImage = async (image: SessionImageSummary) => {
    status(`Opening ${image.name}`);
    const response = await fetch(viewerPaths.slideSource(sessionId, image.id), {
      credentials: 'same-origin',
    });
    if (!response.ok) return status(`${image.name} cannot be shown: ${await response.text()}.`, 'error');
    const body = (await response.json()) as SlideTileSource;
    const element = document.createElement('div');
    element.className = 'slide-view';
    views.replaceChildren(element);
    slide = showSlide(
      element,
      { ...body, tileUrl: sessionTileUrl(sessionId, image.id) },
      {
        onError: (message) => status(message, 'error'),
      },
    );
    status(
      `${image.name}: ${body.width} x ${body.height} pixels, ${body.levels.length} levels` +
        (body.micronsPerPixel ? `, ${body.micronsPerPixel} µm per pixel` : ''),
    );
  };

  const socket = new SessionSocket(
    sessionId,
    {
      message: (message: ServerMessage) => {
        if (message.type === 'expiry') return void renewTicket(sessionId);
        if (message.type === 'error' && message.imageId === undefined && message.requestId === undefined) {
          return status(message.message, 'error');
        }
        shown?.receive(message);
      },
      frame: async (header, image) => shown?.drawFrame(header, image),
      interrupted: (reason) => status(reason),
      // Back on a viewer (the same host, or another that loaded the session afresh): the views
      // shown are asked for again, so the reader sees what they saw before.
      resumed: () => {
        status('Reconnected');
        shown?.requestAll();
      },
      closed: (reason) => status(reason, 'error'),
    },
    session.exchangeAgain,
  );
  // A socket that does not open at first is opened again like a lost one.
  socket.opened.catch((err: Error) => status(`${err.message} Reconnecting…`));

  const show = (image: SessionImageSummary) => {
    overlaySelect.replaceChildren(
      new Option('none', ''),
      ...image.overlays.map((overlay, i) => new Option(overlay.name, overlay.id, i === 0, i === 0)),
    );
    views.classList.toggle('slide', image.kind === 'slide');
    // The volume's controls and help are hidden for a slide: OpenSeadragon's wheel and drag apply.
    document.body.dataset.kind = image.kind;
    slide?.destroy();
    slide = undefined;
    shown = undefined;
    views.replaceChildren();
    if (image.kind === 'slide') return void showSlideImage(image);
    shown = new VolumeViews(views, socket, image.id, {
      overlayId: () => overlaySelect.value || undefined,
      overlayOpacity: () => Number(opacity.value),
      slab: (): Slab | undefined =>
        slabMode.value
          ? {
              mode: slabMode.value as Slab['mode'],
              // Kept to what a view may ask for: a thickness typed below 0 is one slice.
              thicknessMm: Math.min(
                VIEW_BOUNDS.slabThicknessMm.max,
                Math.max(VIEW_BOUNDS.slabThicknessMm.min, Number(thickness.value) || 0),
              ),
            }
          : undefined,
      timepoint: () => Math.max(0, Math.floor(Number(timepoint.value) || 0)),
      timepoints: (count) => {
        timepoint.max = String(count - 1);
        timepoint.disabled = count === 1;
        if (Number(timepoint.value) > count - 1) timepoint.value = String(count - 1);
      },
      tool: () => tool,
      status,
      readout: (text) => (element('readout').textContent = text),
      measurement: (text) => (element('measurement').textContent = text),
    });
  };

  imageSelect.replaceChildren(...session.images.map((image) => new Option(image.name, image.id)));
  imageSelect.addEventListener('change', () => show(session.images.find((i) => i.id === imageSelect.value)!));
  for (const control of [overlaySelect, opacity, slabMode, thickness, timepoint]) {
    control.addEventListener('input', () => shown?.requestAll());
  }
  for (const [name, button] of Object.entries(toolButtons) as [
    Exclude<Tool, 'navigate'>,
    HTMLButtonElement,
  ][]) {
    button.addEventListener('click', () => {
      tool = tool === name ? 'navigate' : name;
      for (const [other, b] of Object.entries(toolButtons))
        b.setAttribute('aria-pressed', String(other === tool));
    });
  }
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    shown?.key(event);
  });
  if (session.images.length === 0) return status('This session has no images.', 'error');
  show(session.images[0]);
}

void main();
