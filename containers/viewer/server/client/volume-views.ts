import type {
  FrameHeader,
  LengthAnswer,
  LengthRequest,
  ProbeAnswer,
  ProbeRequest,
  RegionAnswer,
  RegionRequest,
  ServerMessage,
  ViewRequest,
} from '../protocol';
import {
  CanvasPoint,
  Plane,
  Slab,
  Vec3,
  ViewState,
  VolumeGeometry,
  WINDOW_PRESETS,
  WindowLevel,
} from '../volume/view-state';
import { VIEW_BOUNDS } from '../protocol';
import { PLANE_AXES, planeLayout, voxelToCanvas } from '../volume/view-mapping';
import type { SessionSocket } from './session-connection';

const PLANES: readonly Plane[] = ['axial', 'coronal', 'sagittal'];
/** Pixels of drag for a full window width of change. */
const WINDOW_DRAG_PIXELS = 256;
const ZOOM_STEP = 1.2;
/** A press that moves less than this is a click. */
const CLICK_SLOP = 3;

export type Tool = 'navigate' | 'length' | 'region';

export interface VolumeControls {
  overlayId(): string | undefined;
  overlayOpacity(): number;
  slab(): Slab | undefined;
  timepoint(): number;
  /** The image's time points are known: the time point control offers those only. */
  timepoints(count: number): void;
  tool(): Tool;
  /** Words for the status line, or for the readout of the value under the cursor. */
  status(text: string, kind?: 'info' | 'error'): void;
  readout(text: string): void;
  measurement(text: string): void;
}

interface Canvas {
  readonly plane: Plane;
  readonly frame: HTMLCanvasElement;
  readonly marks: HTMLCanvasElement;
  readonly label: HTMLElement;
  zoom: number;
  pan: [number, number];
  /** The newest request drawn, and whether losslessly. */
  drawn: { requestId: number; encoding: FrameHeader['encoding'] };
  /** The line or region drawn with a tool, until the view changes. */
  mark?: { kind: 'length' | 'ellipse'; from: CanvasPoint; to: CanvasPoint };
}

/**
 * The three planes of one volume, linked by one crosshair. Each canvas asks the server for its
 * view whenever the state changes; frames are drawn as they come, and the marks (crosshair,
 * measurements) are drawn on a canvas above the frame so that the frame's pixels stay as rendered.
 */
export class VolumeViews {
  private readonly canvases: Canvas[];
  private geometry?: VolumeGeometry;
  private position: Vec3 = [0, 0, 0];
  private window: WindowLevel = { width: 400, level: 40 };
  private autoWindow: WindowLevel = this.window;
  private nextId = 1;
  private nextRequestId = 1;
  private readonly answers = new Map<number, (message: ServerMessage) => void>();
  private probing = false;
  private progress = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly socket: SessionSocket,
    readonly imageId: string,
    private readonly controls: VolumeControls,
  ) {
    root.className = 'volume';
    root.replaceChildren();
    this.canvases = PLANES.map((plane) => this.makeCanvas(plane));
    controls.status('Loading the image');
  }

  /** Messages of the socket about this image. */
  receive(message: ServerMessage): void {
    if (message.type === 'geometry' && message.imageId === this.imageId) {
      const first = !this.geometry;
      this.geometry = message.geometry;
      this.autoWindow = message.window;
      if (first) {
        this.position = centre(message.geometry);
        this.window = message.window;
        this.controls.timepoints(message.geometry.timepoints);
      }
      this.requestAll();
    } else if (message.type === 'progress' && message.imageId === this.imageId && !message.overlayId) {
      this.progress = message.done ? '' : loadingWords(message.receivedBytes, message.totalBytes);
      this.requestAll();
      this.showStatus();
    } else if (
      message.type === 'error' &&
      (message.imageId === this.imageId || message.requestId !== undefined)
    ) {
      if (message.requestId !== undefined) this.answers.get(message.requestId)?.(message);
      this.controls.status(message.message, 'error');
    } else if ('requestId' in message && message.type !== 'error') {
      this.answers.get(message.requestId)?.(message);
    }
  }

  async drawFrame(header: FrameHeader, image: Uint8Array): Promise<void> {
    const canvas = this.canvases.find((c) => c.plane === header.canvas);
    if (!canvas || header.imageId !== this.imageId) return;
    // A frame older than the one drawn, or a JPEG of the view already drawn losslessly, is dropped.
    const { drawn } = canvas;
    if (header.requestId < drawn.requestId) return;
    if (header.requestId === drawn.requestId && drawn.encoding === 'png') return;
    const bitmap = await createImageBitmap(
      new Blob([image as BlobPart], { type: header.encoding === 'png' ? 'image/png' : 'image/jpeg' }),
      { colorSpaceConversion: 'none', premultiplyAlpha: 'none' },
    );
    const { frame } = canvas;
    if (frame.width !== header.width || frame.height !== header.height) {
      frame.width = header.width;
      frame.height = header.height;
    }
    frame.getContext('2d')!.drawImage(bitmap, 0, 0);
    bitmap.close();
    canvas.drawn = { requestId: header.requestId, encoding: header.encoding };
    frame.dataset.requestId = String(header.requestId);
    frame.dataset.encoding = header.encoding;
    frame.dataset.slice = String(header.view.position[PLANE_AXES[header.view.plane].through]);
    // What the frame shows, for whoever reads its pixels back (tests, screenshots).
    frame.dataset.view = JSON.stringify(header.view);
    this.drawMarks(canvas);
  }

  /** Asks for every canvas again: the state they share has changed. */
  requestAll(): void {
    for (const canvas of this.canvases) this.request(canvas);
    this.showStatus();
  }

  key(event: KeyboardEvent): void {
    const preset = WINDOW_PRESETS.find((p) => p.key === event.key);
    if (preset) {
      this.window = preset.window;
    } else if (event.key === 'r') {
      if (this.geometry) this.position = centre(this.geometry);
      this.window = this.autoWindow;
      for (const canvas of this.canvases) {
        canvas.zoom = 1;
        canvas.pan = [0, 0];
        canvas.mark = undefined;
      }
      this.controls.measurement('');
    } else if (event.key === '+' || event.key === '=' || event.key === '-') {
      for (const canvas of this.canvases) zoomBy(canvas, event.key === '-' ? 1 / ZOOM_STEP : ZOOM_STEP);
    } else {
      return;
    }
    event.preventDefault();
    this.requestAll();
  }

  private makeCanvas(plane: Plane): Canvas {
    const box = document.createElement('div');
    box.className = 'view';
    box.dataset.plane = plane;
    const frame = document.createElement('canvas');
    frame.className = 'frame';
    const marks = document.createElement('canvas');
    marks.className = 'marks';
    const label = document.createElement('span');
    label.className = 'label';
    box.append(frame, marks, label);
    this.root.append(box);
    const canvas: Canvas = {
      plane,
      frame,
      marks,
      label,
      zoom: 1,
      pan: [0, 0],
      drawn: { requestId: 0, encoding: 'jpeg' },
    };
    this.listen(canvas);
    new ResizeObserver(() => this.request(canvas)).observe(box);
    return canvas;
  }

  private view(canvas: Canvas): ViewState {
    const box = canvas.marks.parentElement!;
    // Device pixels, fewer (the frame then stretched) where a canvas is larger than a view may be.
    const largest = Math.max(box.clientWidth, box.clientHeight) * (window.devicePixelRatio || 1);
    const ratio = (window.devicePixelRatio || 1) * Math.min(1, VIEW_BOUNDS.viewportPixels / largest);
    return {
      plane: canvas.plane,
      position: this.position,
      timepoint: this.timepoint(),
      window: this.window,
      zoom: canvas.zoom,
      pan: canvas.pan,
      slab: this.controls.slab(),
      overlayOpacity: this.controls.overlayId() ? this.controls.overlayOpacity() : 0,
      viewport: {
        width: Math.max(1, Math.round(box.clientWidth * ratio)),
        height: Math.max(1, Math.round(box.clientHeight * ratio)),
      },
    };
  }

  private request(canvas: Canvas): void {
    if (!this.geometry) return;
    const view = this.view(canvas);
    const message: ViewRequest = {
      type: 'view',
      id: this.nextId++,
      imageId: this.imageId,
      canvas: canvas.plane,
      view,
      overlayId: this.controls.overlayId(),
    };
    this.socket.send(message);
    const { through } = PLANE_AXES[canvas.plane];
    canvas.label.textContent = `${canvas.plane} ${this.position[through] + 1}/${this.geometry.size[through]}`;
    if (canvas.marks.width !== view.viewport.width || canvas.marks.height !== view.viewport.height) {
      canvas.marks.width = view.viewport.width;
      canvas.marks.height = view.viewport.height;
    }
    this.drawMarks(canvas);
  }

  private showStatus(): void {
    if (!this.geometry) return;
    const [x, y, z] = this.position;
    const t =
      this.geometry.timepoints > 1 ? ` · time point ${this.timepoint() + 1}/${this.geometry.timepoints}` : '';
    const words = `Slice ${z + 1}/${this.geometry.size[2]} (voxel ${x}, ${y}, ${z})${t} · W ${round(this.window.width)} L ${round(this.window.level)}`;
    this.controls.status(this.progress ? `${this.progress} · ${words}` : words);
  }

  /** The time point asked for, kept to the image's: one past its last would only be refused. */
  private timepoint(): number {
    return clamp(this.controls.timepoint(), 0, (this.geometry?.timepoints ?? 1) - 1);
  }

  /** The crosshair through the position, and the canvas's measurement. */
  private drawMarks(canvas: Canvas): void {
    const context = canvas.marks.getContext('2d')!;
    context.clearRect(0, 0, canvas.marks.width, canvas.marks.height);
    if (!this.geometry) return;
    const [cx, cy] = voxelToCanvas(this.geometry, this.view(canvas), this.position);
    context.strokeStyle = 'rgba(80, 200, 255, 0.6)';
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(cx, 0);
    context.lineTo(cx, canvas.marks.height);
    context.moveTo(0, cy);
    context.lineTo(canvas.marks.width, cy);
    context.stroke();
    const mark = canvas.mark;
    if (!mark) return;
    context.strokeStyle = '#ff0';
    context.beginPath();
    if (mark.kind === 'length') {
      context.moveTo(...mark.from);
      context.lineTo(...mark.to);
    } else {
      const [x0, y0] = mark.from;
      const [x1, y1] = mark.to;
      context.ellipse(
        (x0 + x1) / 2,
        (y0 + y1) / 2,
        Math.abs(x1 - x0) / 2,
        Math.abs(y1 - y0) / 2,
        0,
        0,
        2 * Math.PI,
      );
    }
    context.stroke();
  }

  private listen(canvas: Canvas): void {
    const target = canvas.marks;
    const point = (event: MouseEvent): CanvasPoint => {
      const rect = target.getBoundingClientRect();
      return [
        ((event.clientX - rect.left) * target.width) / rect.width,
        ((event.clientY - rect.top) * target.height) / rect.height,
      ];
    };
    target.addEventListener('contextmenu', (event) => event.preventDefault());
    target.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        if (!this.geometry) return;
        if (event.ctrlKey) {
          zoomBy(canvas, event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP);
          canvas.mark = undefined;
          return this.request(canvas);
        }
        const { through } = PLANE_AXES[canvas.plane];
        const next = [...this.position] as [number, number, number];
        next[through] = clamp(next[through] + Math.sign(event.deltaY), 0, this.geometry.size[through] - 1);
        this.position = next;
        this.clearMarks();
        this.requestAll();
      },
      { passive: false },
    );
    target.addEventListener('mousedown', (event) => {
      // No text is selected by a drag; that also keeps the focus where it was, so a control last
      // used (the slab's, the time point's) is let go here for the keys to reach the views again.
      event.preventDefault();
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      if (!this.geometry) return;
      const start = point(event);
      const startWindow = this.window;
      const startPan = canvas.pan;
      const panning = event.button === 1 || (event.button === 0 && event.shiftKey);
      const tool = event.button === 0 && !panning ? this.controls.tool() : 'navigate';
      let moved = false;
      const move = (e: MouseEvent) => {
        const now = point(e);
        const dx = now[0] - start[0];
        const dy = now[1] - start[1];
        if (Math.hypot(dx, dy) > CLICK_SLOP) moved = true;
        if (!moved) return;
        if (tool !== 'navigate') {
          canvas.mark = { kind: tool === 'length' ? 'length' : 'ellipse', from: start, to: now };
          return this.drawMarks(canvas);
        }
        if (panning) {
          const scale = planeLayout(this.geometry!, { ...this.view(canvas), pan: [0, 0] }).pixelsPerMm;
          canvas.pan = [startPan[0] - dx / scale, startPan[1] - dy / scale];
          return this.request(canvas);
        }
        if (event.button === 0) {
          const perPixel = Math.max(startWindow.width, 1) / WINDOW_DRAG_PIXELS;
          this.window = {
            width: Math.max(1, startWindow.width + dx * perPixel),
            level: startWindow.level - dy * perPixel,
          };
          this.requestAll();
        }
      };
      const up = (e: MouseEvent) => {
        window.removeEventListener('mousemove', move);
        window.removeEventListener('mouseup', up);
        if (tool !== 'navigate' && moved) void this.measure(canvas, start, point(e), tool);
        else if (!moved && event.button === 0) void this.moveCrosshair(canvas, start);
      };
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    });
    target.addEventListener('mousemove', (event) => {
      if (event.buttons === 0) this.probe(canvas, point(event));
    });
  }

  private clearMarks(): void {
    for (const canvas of this.canvases) canvas.mark = undefined;
  }

  private ask<T extends ServerMessage>(
    message:
      Omit<ProbeRequest, 'requestId'> | Omit<LengthRequest, 'requestId'> | Omit<RegionRequest, 'requestId'>,
  ): Promise<T> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.answers.set(requestId, (answer) => {
        this.answers.delete(requestId);
        if (answer.type === 'error') reject(new Error(answer.message));
        else resolve(answer as T);
      });
      this.socket.send({ ...message, requestId } as ProbeRequest | LengthRequest | RegionRequest);
    });
  }

  private async moveCrosshair(canvas: Canvas, at: CanvasPoint): Promise<void> {
    const answer = await this.ask<ProbeAnswer>({
      type: 'probe',
      imageId: this.imageId,
      view: this.view(canvas),
      point: at,
    }).catch(() => undefined);
    if (!answer?.probe.voxel) return;
    this.position = answer.probe.voxel;
    this.clearMarks();
    this.requestAll();
  }

  private async probe(canvas: Canvas, at: CanvasPoint): Promise<void> {
    if (this.probing || !this.geometry) return;
    this.probing = true;
    try {
      const { probe } = await this.ask<ProbeAnswer>({
        type: 'probe',
        imageId: this.imageId,
        view: this.view(canvas),
        point: at,
      });
      const patient = probe.patient.map((v) => v.toFixed(1)).join(', ');
      this.controls.readout(
        probe.voxel
          ? `${round(probe.value ?? NaN)} ${probe.units} at voxel (${probe.voxel.join(', ')}), patient (${patient}) mm`
          : `outside the image, patient (${patient}) mm`,
      );
    } catch {
      // The readout waits for the next move.
    } finally {
      this.probing = false;
    }
  }

  private async measure(canvas: Canvas, from: CanvasPoint, to: CanvasPoint, tool: Tool): Promise<void> {
    const view = this.view(canvas);
    try {
      if (tool === 'length') {
        const answer = await this.ask<LengthAnswer>({
          type: 'length',
          imageId: this.imageId,
          view,
          from,
          to,
        });
        this.controls.measurement(`Length ${answer.millimetres.toFixed(1)} mm`);
      } else {
        const answer = await this.ask<RegionAnswer>({
          type: 'region',
          imageId: this.imageId,
          view,
          shape: { kind: 'ellipse', from, to },
        });
        const s = answer.statistics;
        this.controls.measurement(
          `ROI mean ${s.mean.toFixed(1)} SD ${s.sd.toFixed(1)} min ${round(s.min)} max ${round(s.max)} area ${s.areaMm2.toFixed(1)} mm² (${s.voxels} voxels)`,
        );
      }
    } catch (err) {
      this.controls.measurement(`The measurement failed: ${(err as Error).message}`);
    }
  }
}

/** Zooms a canvas by `factor`, no further than a view may ask for. */
function zoomBy(canvas: { zoom: number }, factor: number): void {
  canvas.zoom = clamp(canvas.zoom * factor, VIEW_BOUNDS.zoom.min, VIEW_BOUNDS.zoom.max);
}

/** The crosshair at the volume's centre voxel. */
function centre(geometry: VolumeGeometry): Vec3 {
  return geometry.size.map((n) => Math.floor((n - 1) / 2)) as unknown as Vec3;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function loadingWords(received: number, total?: number): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return total
    ? `Loading ${mb(received)} of ${mb(total)} MB (${Math.floor((100 * received) / total)}%)`
    : `Loading ${mb(received)} MB`;
}
