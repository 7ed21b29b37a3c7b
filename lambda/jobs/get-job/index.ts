import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { imageUrlSigner } from '../../delivery/image-url-signer';
import { jobView } from '../job-record';
import { getVisibleJob } from '../job-store';

parseEnvironment(operation);

/** `GET /v1/jobs/{jobId}`: the job; output files come as CloudFront signed URLs. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const { job } = await getVisibleJob(pathParameters.jobId, caller.userId);
  const keys = job.outputs.flatMap((o) => (o.key ? [o.key] : []));
  const urls = new Map<string, { url: string; expiresAt: string }>();
  for (const key of keys) urls.set(key, await imageUrlSigner().signedDownload(key));
  return { status: 200, body: jobView(job, urls) };
});
