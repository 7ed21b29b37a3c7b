import { CONVERSION_SCRATCH } from '../../../lambda/contracts/converter-jobs';
import { ContainerDeployment } from '../../../lambda/contracts/handler-deployment';
import { CONVERSION_PERMISSIONS } from '../../../lambda/images/convert-image/function';

/** The converter container: it converts as the converter function does, in its scratch volume. */
export const converterContainer: ContainerDeployment = {
  container: 'images/converter',
  permissions: CONVERSION_PERMISSIONS,
  settings: [CONVERSION_SCRATCH],
};
