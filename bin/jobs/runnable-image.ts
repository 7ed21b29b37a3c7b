// Adds the job runner layer to an algorithm image with this machine's podman or docker, as the
// platform's build does before a version is registered on AWS Batch, and prints the new image by
// digest: `npm run runnable-image -- <algorithm image> <new tag>`. Push the result to ECR and
// register it as the algorithm's version.
import { findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { buildRunnableImage } from '../../containers/jobs/runner/runnable-image';

async function main(): Promise<void> {
  const [image, tag] = process.argv.slice(2);
  if (!image || !tag) {
    console.error(
      'usage: npm run runnable-image -- <algorithm image> <new tag, e.g. localhost/segmenter:runnable>',
    );
    process.exit(2);
  }
  const engine = findContainerEngine();
  if (!engine) {
    console.error(NO_CONTAINER_ENGINE);
    process.exit(1);
  }
  console.log(await buildRunnableImage(engine, image, tag));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
