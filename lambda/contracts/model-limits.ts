import { settingsGroup, wholeNumber } from './settings';

/**
 * What an algorithm's model may be, from the configuration: its bytes as uploaded (checked when
 * the model is created), and the entries and bytes its archive may hold once extracted (checked
 * when it is validated). A refusal names the configuration key.
 */
export const MODEL_LIMITS = settingsGroup('the model limits', {
  modelBytes: wholeNumber,
  modelEntries: wholeNumber,
  modelExtractedBytes: wholeNumber,
});
