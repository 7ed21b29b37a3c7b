import { settingsGroup, text, wholeNumber } from './settings';

/** Where the converter function sends the upload sets it does not convert itself. */
export const CONVERTER_JOBS = settingsGroup('the converter container jobs', {
  converterJobQueue: text,
  converterJobDefinition: text,
  /** Largest upload set the function converts itself. */
  lambdaMaxSetBytes: wholeNumber,
});

/** The folder a converter downloads upload sets into: the function's /tmp, the container's scratch volume. */
export const CONVERSION_SCRATCH = settingsGroup('the conversion scratch folder', { conversionWorkDir: text });

/**
 * The converter container's command, from the job's parameters: the image to convert. Batch
 * substitutes `Ref::` names from SubmitJob's parameters; the entrypoint reads the image id.
 */
export const CONVERTER_JOB_COMMAND: readonly string[] = ['Ref::imageId'];
