import {
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
} from '@aws-sdk/client-ecr';
import { badRequest } from '../api/api-error';
import { variableName } from '../contracts/settings';
import { checkImageFacts } from './image-facts';

let ecr: ECRClient | undefined;
const client = () => (ecr ??= new ECRClient({}));

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

interface Manifest {
  readonly mediaType?: string;
  readonly config?: { readonly digest: string };
  readonly manifests?: readonly {
    readonly digest: string;
    readonly platform?: { os?: string; architecture?: string };
  }[];
}

/** An image in ECR by digest: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<hex>`. */
export function parseEcrImage(image: string): {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
} {
  const match =
    /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/([a-z0-9._/-]+)@(sha256:[0-9a-f]{64})$/.exec(image);
  if (!match) throw badRequest(`image ${image} is not an ECR image by digest`);
  return { registryId: match[1], repositoryName: match[2], imageDigest: match[3] };
}

/**
 * Checks an image in ECR before a version of it becomes active, each check named when it fails:
 * the image exists; it is (or its index holds) linux/amd64; it carries the job runner layer and
 * the author's USER that the layer records is not root; its scan has finished, and, unless
 * `allowCritical`, found nothing critical.
 */
export async function checkEcrImage(
  image: string,
  where: string,
  options: { allowCritical: boolean },
): Promise<void> {
  const { registryId, repositoryName, imageDigest } = parseEcrImage(image);
  let manifest = await getManifest(registryId, repositoryName, imageDigest, `${where} ${image}`);
  if (manifest.manifests) {
    const amd64 = manifest.manifests.find(
      (m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64',
    );
    if (!amd64) {
      const platforms = manifest.manifests
        .map((m) => `${m.platform?.os}/${m.platform?.architecture}`)
        .join(', ');
      throw badRequest(
        `${where} has no linux/amd64 image (it has ${platforms}); algorithms run on linux/amd64`,
      );
    }
    manifest = await getManifest(registryId, repositoryName, amd64.digest, `${where} ${image}`);
  }
  if (!manifest.config?.digest) throw badRequest(`${where} has a manifest without an image configuration`);
  const { downloadUrl } = await client().send(
    new GetDownloadUrlForLayerCommand({ registryId, repositoryName, layerDigest: manifest.config.digest }),
  );
  const response = await fetch(downloadUrl!);
  if (!response.ok) throw new Error(`the image configuration could not be read: HTTP ${response.status}`);
  const config = (await response.json()) as {
    os?: string;
    architecture?: string;
    config?: { User?: string; Env?: string[] | null; Labels?: Record<string, string> | null };
  };
  // Batch runs the image with the job runner layered on (containers/jobs/runner/deploy.ts), which
  // runs as root and records the author's own USER; the contract's check is on that user.
  const recorded = `${variableName('algorithmUser')}=`;
  const authorUser = config.config?.Env?.find((entry) => entry.startsWith(recorded));
  if (authorUser === undefined) {
    throw badRequest(
      `${where} has no job runner layer; the platform's build adds it to the author's image before a version is registered`,
    );
  }
  checkImageFacts(
    {
      user: authorUser.slice(recorded.length),
      os: config.os ?? '',
      architecture: config.architecture ?? '',
      labels: config.config?.Labels ?? {},
    },
    where,
  );

  const scan = await client()
    .send(new DescribeImageScanFindingsCommand({ registryId, repositoryName, imageId: { imageDigest } }))
    .catch((err: Error) => {
      if (err.name === 'ScanNotFoundException') return undefined;
      throw err;
    });
  const status = scan?.imageScanStatus?.status;
  if (status !== 'COMPLETE') {
    throw badRequest(
      `${where} has no finished vulnerability scan (${status ?? 'none'}); try again once ECR has scanned it`,
    );
  }
  const critical = scan?.imageScanFindings?.findingSeverityCounts?.CRITICAL ?? 0;
  if (critical > 0 && !options.allowCritical) {
    throw badRequest(
      `${where} has ${critical} critical vulnerabilities in its scan; fix them and push again`,
    );
  }
}

async function getManifest(
  registryId: string,
  repositoryName: string,
  imageDigest: string,
  what: string,
): Promise<Manifest> {
  const { images, failures } = await client().send(
    new BatchGetImageCommand({
      registryId,
      repositoryName,
      imageIds: [{ imageDigest }],
      acceptedMediaTypes: MANIFEST_TYPES,
    }),
  );
  const manifest = images?.[0]?.imageManifest;
  if (!manifest) {
    throw badRequest(
      `${what} does not exist in ECR${failures?.[0]?.failureReason ? ` (${failures[0].failureReason})` : ''}`,
    );
  }
  return JSON.parse(manifest) as Manifest;
}
