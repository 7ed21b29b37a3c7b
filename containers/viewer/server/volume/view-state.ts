/**
 * What the viewer's server renders and the browser client asks for: the shapes both sides of the
 * WebSocket share. Positions are continuous voxel indices (x, y, z; a voxel's centre is a whole
 * number); patient coordinates are millimetres in the image's LPS space, as ITK gives them.
 */

export type Plane = 'axial' | 'coronal' | 'sagittal';

export type Vec3 = readonly [number, number, number];

/** The geometry of a volume, read from its `.mha` header before any voxel has arrived. */
export interface VolumeGeometry {
  /** Voxels along x, y, z. */
  readonly size: Vec3;
  /** Millimetres between voxel centres along x, y, z. */
  readonly spacing: Vec3;
  /** Patient position of voxel (0, 0, 0). */
  readonly origin: Vec3;
  /** Direction cosines, row per axis (ITK's TransformMatrix). */
  readonly direction: readonly [Vec3, Vec3, Vec3];
  /** Time points of a 4D image; 1 otherwise. */
  readonly timepoints: number;
  /** Values are Hounsfield units (a CT), or the image's own units. */
  readonly units: 'HU' | 'image units';
}

export interface WindowLevel {
  readonly width: number;
  readonly level: number;
}

/** Window presets by number key, as the client offers them. */
export const WINDOW_PRESETS: readonly {
  readonly key: string;
  readonly name: string;
  readonly window: WindowLevel;
}[] = [
  { key: '1', name: 'soft tissue', window: { width: 400, level: 40 } },
  { key: '2', name: 'lung', window: { width: 1500, level: -600 } },
  { key: '3', name: 'bone', window: { width: 2500, level: 480 } },
  { key: '4', name: 'brain', window: { width: 80, level: 40 } },
  { key: '5', name: 'liver', window: { width: 150, level: 90 } },
];

export interface Slab {
  readonly mode: 'mip' | 'minip' | 'average';
  /** Thickness across the plane in millimetres, centred on the crosshair. */
  readonly thicknessMm: number;
}

/** One view of a volume, as the client asks the server to render it. */
export interface ViewState {
  readonly plane: Plane;
  /** The crosshair, shared by the three planes; the slice shown is the one through it. */
  readonly position: Vec3;
  readonly timepoint: number;
  readonly window: WindowLevel;
  /** 1 fits the whole plane in the viewport (aspect kept from the spacing); 2 shows it twice as large. */
  readonly zoom: number;
  /** Offset of the viewport's centre from the plane's centre, in millimetres across and down. */
  readonly pan: readonly [number, number];
  /** @default - one slice */
  readonly slab?: Slab;
  /** Opacity (0 to 1) of the overlay's label colours; 0 hides it. */
  readonly overlayOpacity: number;
  /** The canvas size in device pixels. */
  readonly viewport: { readonly width: number; readonly height: number };
}

/** A rendered view: 8-bit RGB pixels, row by row, the viewport's size. */
export interface RenderedFrame {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** A point on the canvas, in device pixels from its top left corner. */
export type CanvasPoint = readonly [number, number];

/** The voxel under a point of the canvas and its value. */
export interface Probe {
  /** Whole voxel indices, or undefined when the point is outside the volume. */
  readonly voxel?: Vec3;
  readonly patient: Vec3;
  readonly value?: number;
  readonly units: VolumeGeometry['units'];
}

export interface RegionStatistics {
  readonly mean: number;
  readonly sd: number;
  readonly min: number;
  readonly max: number;
  /** Square millimetres of the plane the region covers. */
  readonly areaMm2: number;
  /** Voxels inside the region. */
  readonly voxels: number;
}

export interface RegionShape {
  readonly kind: 'ellipse' | 'rectangle';
  /** Opposite corners of the shape's bounding box on the canvas. */
  readonly from: CanvasPoint;
  readonly to: CanvasPoint;
}
