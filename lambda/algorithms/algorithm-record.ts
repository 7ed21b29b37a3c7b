import type { AlgorithmModelRef } from './algorithm-models';
import type { SOCKET_KINDS } from './schemas';

export type SocketKind = (typeof SOCKET_KINDS)[number];

/** One input or output of an algorithm, as grand-challenge defines sockets. */
export interface Socket {
  readonly slug: string;
  readonly kind: SocketKind;
  /** Where the value lives under /input or /output in the container. */
  readonly relativePath: string;
  /** JSON Schema that a json value must match. */
  readonly schema?: Record<string, unknown>;
}

export interface AlgorithmInterface {
  readonly inputs: readonly Socket[];
  readonly outputs: readonly Socket[];
}

export interface AlgorithmVersionRef {
  readonly id: string;
  readonly image: string;
  readonly createdAt: string;
  /** The Batch job definition (name:revision ARN) its jobs run with; registered when it became active. */
  readonly jobDefinition?: string;
}

/** What the API shows of a version: not where it runs. */
export function versionView(version: AlgorithmVersionRef) {
  return { id: version.id, image: version.image, createdAt: version.createdAt };
}

/** An algorithm as stored in the algorithms table; this item decides who may do what. */
export interface AlgorithmRecord {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly interfaces: readonly AlgorithmInterface[];
  readonly timeLimitSeconds: number;
  readonly memoryGb: number;
  readonly gpu: boolean;
  readonly editors: readonly string[];
  readonly users: readonly string[];
  /** The version its jobs run; none until a first image is added or built. */
  readonly activeVersion?: AlgorithmVersionRef;
  /** The model its jobs find at /opt/ml/model; none until an editor makes one active. */
  readonly activeModel?: AlgorithmModelRef;
  /** Raised by every change, so that concurrent changes cannot overwrite each other. */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type AlgorithmRole = 'editor' | 'user';

/** Room an algorithm's item keeps for the job definition that each activation names. */
export const ALGORITHM_ITEM_RESERVE_BYTES = 1024;

export const DEFAULT_TIME_LIMIT_SECONDS = 3600;
export const DEFAULT_MEMORY_GB = 8;

/** Editors may change the algorithm and read its jobs' logs; both editors and users may run it. */
export function roleOf(algorithm: AlgorithmRecord, userId: string): AlgorithmRole | undefined {
  if (algorithm.editors.includes(userId)) return 'editor';
  if (algorithm.users.includes(userId)) return 'user';
  return undefined;
}

/** What a member sees; only editors see who the members are. */
export function algorithmView(algorithm: AlgorithmRecord, role: AlgorithmRole) {
  return {
    id: algorithm.id,
    title: algorithm.title,
    ...(algorithm.description !== undefined && { description: algorithm.description }),
    interfaces: algorithm.interfaces,
    timeLimitSeconds: algorithm.timeLimitSeconds,
    memoryGb: algorithm.memoryGb,
    gpu: algorithm.gpu,
    ...(algorithm.activeVersion && { activeVersion: versionView(algorithm.activeVersion) }),
    ...(algorithm.activeModel && {
      activeModel: { id: algorithm.activeModel.id, sha256: algorithm.activeModel.sha256 },
    }),
    role,
    ...(role === 'editor' && { editors: algorithm.editors, users: algorithm.users }),
    createdAt: algorithm.createdAt,
    updatedAt: algorithm.updatedAt,
  };
}
