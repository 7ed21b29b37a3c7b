import { InputsJsonEntry, interfaceValues } from './inputs-json';
import type { ManifestInput } from './job-manifest';

/**
 * One job a job evaluates, as its manifest carries it: what `/input/predictions.json` says of it,
 * and where its outputs go under `/input/<jobId>/output/`.
 */
export interface ManifestPrediction {
  readonly jobId: string;
  /** The algorithm version the job ran, and its image by digest. */
  readonly algorithmVersionId: string;
  readonly image: string;
  /** When the job's container started and stopped, as Batch reported them. */
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  /** The job's inputs as its own manifest placed them; they are listed, not copied. */
  readonly inputs: readonly ManifestInput[];
  /**
   * The job's outputs at `<jobId>/output/<relative path>` (an image in its socket's folder under
   * its own name): a copy under this job's inputs (`key`, made from `source`), or a JSON value.
   */
  readonly outputs: readonly ManifestInput[];
}

/**
 * One job of `/input/predictions.json` as grand-challenge's JobSerializer writes it, fields in its
 * order; `url` and `api_url` (its pages' addresses) have no counterpart here and are left out.
 */
export interface PredictionsJsonJob {
  readonly pk: string;
  readonly algorithm_image: string;
  readonly inputs: readonly InputsJsonEntry[];
  readonly outputs: readonly InputsJsonEntry[];
  readonly status: 'Succeeded';
  readonly hanging_protocol: null;
  readonly optional_hanging_protocols: readonly never[];
  readonly view_content: Readonly<Record<string, never>>;
  readonly exec_duration: string | null;
  readonly invoke_duration: null;
}

/** Where a prediction's outputs go under /input: `<jobId>/output/`, as grand-challenge prefixes them. */
export function predictionOutputFolder(jobId: string): string {
  return `${jobId}/output/`;
}

/**
 * grand-challenge names an algorithm image as `Algorithm Image <first part of its id> (SHA256:
 * <first 8 hex digits of its digest>)`; here the image is the algorithm version's.
 */
export function algorithmImageName(algorithmVersionId: string, image: string): string {
  const digest = /@sha256:([0-9a-f]{8})/.exec(image)?.[1] ?? 'Unknown';
  return `Algorithm Image ${algorithmVersionId.split('-')[0]} (SHA256: ${digest})`;
}

/** A duration as Django writes it in ISO 8601 (`P0DT00H01M05.250000S`), as grand-challenge serializes them. */
export function isoDuration(milliseconds: number): string {
  const sign = milliseconds < 0 ? '-' : '';
  const micros = Math.round(Math.abs(milliseconds) * 1000);
  const seconds = Math.floor(micros / 1e6);
  const fraction = micros % 1e6;
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${sign}P${Math.floor(seconds / 86400)}DT${pad(Math.floor((seconds % 86400) / 3600))}H` +
    `${pad(Math.floor((seconds % 3600) / 60))}M${pad(seconds % 60)}` +
    `${fraction ? `.${String(fraction).padStart(6, '0')}` : ''}S`
  );
}

/**
 * `/input/predictions.json`: the jobs given as predictions, in the order given, each with its
 * inputs and outputs as inputs.json lists values (outputs numbered after the inputs).
 */
export function predictionsJson(predictions: readonly ManifestPrediction[]): PredictionsJsonJob[] {
  return predictions.map((prediction) => ({
    pk: prediction.jobId,
    algorithm_image: algorithmImageName(prediction.algorithmVersionId, prediction.image),
    inputs: interfaceValues(prediction.inputs),
    outputs: interfaceValues(prediction.outputs, prediction.inputs.length + 1),
    status: 'Succeeded',
    hanging_protocol: null,
    optional_hanging_protocols: [],
    view_content: {},
    exec_duration:
      prediction.startedAt && prediction.stoppedAt
        ? isoDuration(Date.parse(prediction.stoppedAt) - Date.parse(prediction.startedAt))
        : null,
    invoke_duration: null,
  }));
}
