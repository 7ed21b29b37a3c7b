import { z } from 'zod';
import { REGION_TIME_ZONES } from './region-time-zones';
import { MAX_UPLOADS_PER_IMAGE } from '../../lambda/contracts/upload-limits';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'expected an AWS region name such as "eu-central-1"');

const acmCertificateArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, 'expected an ACM certificate ARN');

const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'expected a lower-case DNS name',
  );

const customDomain = z.strictObject({
  domainName,
  certificateArn: acmCertificateArn,
});

/** CloudWatch Logs accepts only these retention periods. */
const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** The viewer hosts' instance types: x86-64 c, m or r, generation 6 or 7, a whole size. */
const VIEWER_INSTANCE_TYPE = /^[cmr][67](i|a)\.(large|xlarge|[1-9]\d?xlarge)$/;

/** Five fields: minute, hour, day of month, month, day of week (Auto Scaling's recurrence). */
const cronExpression = /^\S+ \S+ \S+ \S+ \S+$/;

/** Fargate task sizes: vCPUs and the memory (MiB) each allows, from the AWS Batch user guide. */
export const FARGATE_MEMORY_MIB: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  0.25: { min: 512, max: 2048, step: 512 },
  0.5: { min: 1024, max: 4096, step: 1024 },
  1: { min: 2048, max: 8192, step: 1024 },
  2: { min: 4096, max: 16384, step: 1024 },
  4: { min: 8192, max: 30720, step: 1024 },
  8: { min: 16384, max: 61440, step: 4096 },
  16: { min: 32768, max: 122880, step: 8192 },
};

export const platformConfigSchema = z
  .strictObject({
    /** Prefix of every stack name, so that several platforms can share one account. */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,39}$/, 'expected letters, digits and dashes, starting with a letter'),
    /** Account to deploy into; when unset, the account of the credentials used by `cdk deploy`. */
    account: z.coerce // `-c platform.account=...` arrives as a number
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
      .optional(),
    /** Region of the data, API and compute stacks. */
    homeRegion: awsRegion,
    /** Regions that run viewer fleets, nearest to the readers. */
    viewerRegions: z
      .array(awsRegion)
      .min(1)
      .refine((regions) => new Set(regions).size === regions.length, 'regions must not repeat'),
    domains: z.strictObject({
      /** Images served by CloudFront; the certificate must be in us-east-1. */
      images: customDomain
        .refine((d) => d.certificateArn.split(':')[3] === 'us-east-1', {
          message: 'CloudFront only accepts certificates from us-east-1',
          path: ['certificateArn'],
        })
        .optional(),
      /** The REST API; the certificate must be in the home region. */
      api: customDomain.optional(),
      /**
       * The viewer. `domainName` is where sessions open when `viewer.url` is unset. `regions` gives
       * a viewer region its own name and a certificate from that region: its load balancer then
       * faces the internet with HTTPS on that certificate, instead of a CloudFront distribution in
       * front of an internal load balancer (the default, which needs no domain).
       */
      viewer: z
        .strictObject({
          domainName,
          regions: z.record(awsRegion, customDomain).optional(),
        })
        .optional(),
    }),
    users: z.strictObject({
      /** Whether researchers may create their own accounts; otherwise administrators invite them. */
      selfSignUp: z.boolean(),
      /**
       * Cognito threat protection (the Plus feature plan, priced per monthly active user): risky
       * sign-ins challenged or blocked, leaked passwords refused.
       */
      threatProtection: z.boolean(),
    }),
    /** Who hears of trouble, and when spend or waiting counts as trouble. */
    operations: z.strictObject({
      /** Addresses the alarm topic mails; each confirms its subscription once. */
      alarmEmails: z.array(z.email('expected an email address')),
      /** Monthly spend in USD above which the alarm topic hears (AWS Budgets, actual and forecast). */
      monthlyBudgetUsd: z.number().positive().optional(),
      /**
       * Per-method API metrics (CloudWatch detailed metrics): a custom metric per method and kind,
       * billed per metric each month it has data, about 7 per method. The alarms and the dashboard
       * read the API-wide metrics, which are free; turn these on to see which route is slow.
       */
      detailedApiMetrics: z.boolean(),
      /**
       * Minutes a job of the platform's Batch queues may wait RUNNABLE (for an instance, or for
       * Fargate capacity) before the alarm topic hears of it. Batch cancels a job that waits for
       * EC2 capacity after compute.capacityWaitMinutes: below that, the alarm tells of it first.
       */
      runnableAlarmMinutes: z.number().int().min(10).max(1440),
      /**
       * X-Ray traces of the API stage and of every function that serves requests or events:
       * nothing while idle; beyond the free 100,000 traces a month, about 5 USD per million
       * recorded, and AWS's default sampling records the first request each second and 5 % of
       * the rest. false: no traces, and no function may write any. The functions that create
       * the signing keys at deploy are never traced.
       */
      tracing: z.boolean(),
    }),
    /** Origins from which browsers may call the API and upload to the bucket. */
    webOrigins: z.array(
      z.string().regex(/^https?:\/\/[^/\s*]+$/, 'expected an origin such as https://example.org'),
    ),
    compute: z.strictObject({
      gpuInstanceTypes: z
        .array(
          z
            .string()
            .regex(
              /^(g4dn|g5|g6|g6e)\.(x|2x|4x|8x|12x|16x|24x|48x)large$/,
              'expected a GPU instance type of the g4dn, g5, g6 or g6e family',
            ),
        )
        .min(1),
      /** vCPU ceiling of each GPU compute environment (spot and on-demand each). */
      maxVcpus: positiveInt(100_000),
      /** Instance types or whole families for algorithms that need no GPU; x86-64, as algorithm images are amd64. */
      cpuInstanceTypes: z
        .array(
          z
            .string()
            .regex(
              /^[cmr][5-7](a|i|n|ad|id|in)?(\.(large|xlarge|[1-9]\d?xlarge|metal))?$/,
              'expected an x86-64 instance type or family of the c, m or r series, generation 5 to 7, such as "c6i" or "m6i.2xlarge"',
            ),
        )
        .min(1),
      /** vCPU ceiling of each CPU compute environment. */
      cpuMaxVcpus: positiveInt(100_000),
      /** spot: cheapest, may be reclaimed (jobs are retried); on-demand: never reclaimed; both: spot first. */
      purchaseOption: z.enum(['spot', 'on-demand', 'both']),
      /**
       * Encrypted gp3 volume of each job instance for its containers: the algorithm images, and the
       * inputs, outputs and writable roots of the jobs it runs (the instance's own root volume is
       * separate). At least 30 GiB.
       */
      instanceVolumeGiB: z.number().int().min(30).max(16_384),
      /** Whether an image whose ECR scan found critical vulnerabilities may become an active version. */
      criticalFindings: z.enum(['refuse', 'allow']),
      /**
       * Minutes a job waits in its queue while EC2 has no capacity for it (a G-instance vCPU quota
       * of 0, spot shortage) before Batch cancels it and its slots are freed; 10 to 1440.
       */
      capacityWaitMinutes: z.number().int().min(10).max(1440),
      /**
       * Availability zones of the job network. Each zone adds its share of every interface
       * endpoint (6 endpoints, about 53 USD a month per zone in eu-central-1, see `npm run cost`);
       * more zones find scarce GPU capacity more easily and survive a zone's outage.
       */
      availabilityZones: z.number().int().min(1).max(3),
    }),
    conversion: z.strictObject({
      /**
       * Largest upload set that the converter function takes; larger sets, and every set holding
       * pictures or slides, go to the converter container. The function gets 4 times this in
       * memory and this plus 512 MiB in /tmp, so at most 2.5 GiB fits Lambda's 10 GiB.
       */
      lambdaMaxSetBytes: z
        .number()
        .int()
        .min(MiB)
        .max(2.5 * GiB),
      /** vCPUs of one converter container (a Fargate size). */
      containerVcpus: z.number().refine((v) => FARGATE_MEMORY_MIB[v] !== undefined, {
        message: `expected one of the Fargate sizes: ${Object.keys(FARGATE_MEMORY_MIB)
          .map(Number)
          .sort((a, b) => a - b)
          .join(', ')} vCPUs`,
      }),
      /** Memory of one converter container, in MiB; Fargate allows a range per vCPU count. */
      containerMemoryMiB: z.number().int(),
      /** Disk of one converter container for the upload set and libvips' temporary files (Fargate: 21 to 200). */
      containerStorageGiB: z.number().int().min(21).max(200),
      /** Most vCPUs that converter containers use at once, which bounds conversions in parallel. */
      maxVcpus: positiveInt(10_000),
    }),
    /** Algorithm builds: a pushed build context becomes an image in the algorithm repository. */
    builds: z.strictObject({
      /** Bytes of a build context as uploaded (`.zip`, `.tar.gz`); counts against the upload quota. */
      contextBytes: z
        .number()
        .int()
        .min(MiB)
        .max(5 * 1024 * GiB),
      /** Entries (files, folders, links) a build context may hold. */
      contextEntries: positiveInt(10_000_000),
      /** Bytes a build context may hold once extracted. */
      contextExtractedBytes: z.number().int().min(MiB),
      /** Builds one user may have under way at once (from the push until the build ends). */
      perUser: positiveInt(1_000),
      /** Minutes a build may run in CodeBuild before it is stopped (CodeBuild allows 5 to 2,160). */
      timeoutMinutes: z.number().int().min(5).max(2160),
      /** CodeBuild's compute type for builds: memory and disk for large images. */
      computeType: z.enum(['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE']),
      /** Days the images of retired versions and of failed builds stay in the repository. */
      retiredImageDays: positiveInt(3650),
    }),
    limits: z.strictObject({
      activeJobsPerUser: positiveInt(10_000),
      activeJobsPerAlgorithm: positiveInt(10_000),
      activeJobsTotal: positiveInt(100_000),
      /** Files in one image output's folder; grand-challenge stores at most 1,000 there. */
      outputFilesPerImageFolder: positiveInt(1_000_000),
      /** Files under /output that one job may have stored, in all. */
      outputFiles: positiveInt(1_000_000),
      /** Bytes under /output that one job may have stored, in all. */
      outputBytes: z.number().int().min(MiB),
      /**
       * Bytes an algorithm may write to its own root file system (home, working directory, caches,
       * /tmp) in one job; the writes are discarded with the job. Whole MiB, at least 64 MiB.
       */
      writableRootBytes: z
        .number()
        .int()
        .min(64 * MiB)
        .check(z.refine((bytes) => bytes % MiB === 0, 'must be a whole number of MiB')),
      uploadBytesUnverifiedUser: z.number().int().min(MiB),
      uploadBytesVerifiedUser: z.number().int().min(MiB),
      /** Bytes of an algorithm's model as uploaded (`.tar.gz`); S3 takes objects up to 5 TiB. */
      modelBytes: z
        .number()
        .int()
        .min(MiB)
        .max(5 * 1024 * GiB),
      /** Entries (files, folders, links) a model's archive may hold. */
      modelEntries: positiveInt(10_000_000),
      /** Bytes a model's files may hold once extracted at /opt/ml/model. */
      modelExtractedBytes: z.number().int().min(MiB),
      /** S3 multipart parts must be 5 MiB to 5 GiB. */
      uploadPartBytes: z
        .number()
        .int()
        .min(5 * MiB)
        .max(5 * GiB),
      /**
       * Parts that a job's input larger than one part is copied in, inside S3 (5 MiB to 5 GiB);
       * grown for an object that would need more than 10,000.
       */
      copyPartBytes: z
        .number()
        .int()
        .min(5 * MiB)
        .max(5 * GiB),
      incompleteUploadDays: positiveInt(365),
      /** Uploads (files) one image may be made of: a thin-slice CT or a tomosynthesis study has thousands. */
      uploadsPerImage: positiveInt(MAX_UPLOADS_PER_IMAGE),
      /** Viewer sessions that may run at once in one viewer region. */
      viewerSessionsPerRegion: positiveInt(10_000),
      /** Viewer sessions that one user may have running at once. */
      viewerSessionsPerUser: positiveInt(1_000),
      /** Longest a viewer session lasts, however often it is kept alive. */
      viewerSessionMaxSeconds: z
        .number()
        .int()
        .min(600)
        .max(7 * 24 * 3600),
      /** Lifetime of a CloudFront signed URL or cookie. */
      signedUrlSeconds: z
        .number()
        .int()
        .min(30)
        .max(7 * 24 * 3600),
    }),
    retention: z.strictObject({
      /** Days that an overwritten or deleted object version is kept before it expires. */
      noncurrentVersionDays: positiveInt(3650),
      /** Days that a raw upload is kept after its conversion succeeded. */
      convertedUploadDays: positiveInt(3650),
      /** Days a build's source object (its context, as the pipeline reads it) is kept. */
      buildSourceDays: positiveInt(3650),
      /** Days that access logs are kept. */
      accessLogDays: positiveInt(3650),
      /** Days that Lambda and service logs are kept in CloudWatch Logs. */
      logRetentionDays: z.number().refine((d) => (logRetentionDays as readonly number[]).includes(d), {
        message: `expected one of the CloudWatch Logs retention periods: ${logRetentionDays.join(', ')}`,
      }),
    }),
    /**
     * Raise by one to rotate the key pair that signs CloudFront URLs: a new key pair signs, and the
     * previous one stays trusted (both in the key group) until it is retired.
     */
    urlSigningKeyGeneration: z.number().int().min(1),
    /**
     * Generations up to this one are no longer trusted: set it to the previous generation once
     * URLs it signed have expired (`limits.signedUrlSeconds` plus a minute after the rotation).
     */
    urlSigningKeyRetiredGeneration: z.number().int().min(0),
    /**
     * A viewer run elsewhere that every region's sessions open in. Without it, a session opens in
     * its region's fleet, whose origin the API reads from that region when the session starts.
     */
    viewer: z
      .strictObject({
        /** Origin of the viewer, such as `https://viewer.example.org`. */
        url: z
          .string()
          .regex(/^https:\/\/[^/\s*]+$/, 'expected an https origin such as https://viewer.example.org')
          .optional(),
      })
      .optional(),
    /** The EC2 fleets that run viewer sessions, one per viewer region, all sized alike. */
    viewerFleet: z.strictObject({
      /**
       * Instance type of the viewer hosts: x86-64, of the c, m or r series, generation 6 or 7
       * (c: 2 GiB per vCPU, m: 4, r: 8). Sessions render on the CPU.
       */
      instanceType: z
        .string()
        .regex(
          VIEWER_INSTANCE_TYPE,
          'expected an x86-64 instance type of the c, m or r series, generation 6 or 7, such as "m7i.2xlarge"',
        ),
      /** Sessions one host runs at once, each in its own container. */
      sessionsPerHost: positiveInt(256),
      /** Memory of one session's container, in MiB; past it that container is stopped, not the host. */
      sessionMemoryMiB: z
        .number()
        .int()
        .min(512)
        .max(512 * 1024),
      /** CPU of one session's container, in thousandths of a vCPU. */
      sessionMilliCpus: z.number().int().min(100).max(192_000),
      /** Hosts each region keeps running at least (outside the night, when a schedule is set). */
      minHosts: z.number().int().min(0).max(1000),
      /** Hosts each region may run at most. */
      maxHosts: positiveInt(1000),
      /**
       * Free session slots each region keeps ready: when fewer are free, hosts are added before
       * readers have to wait for one. 0 starts a host only when a session finds none.
       */
      warmSlots: z.number().int().min(0).max(10_000),
      /**
       * Hosts each region keeps stopped in a warm pool, booted once with Docker and the viewer
       * image on disk: a host that starts from the pool serves in under a minute instead of two
       * to four, and costs only its volume while stopped. 0: no warm pool.
       */
      stoppedHosts: z.number().int().min(0).max(100),
      /**
       * NAT gateways of each region's network (one per availability zone at most). 0: hosts reach
       * AWS and CloudFront from public subnets, admitting nothing but the load balancer.
       */
      natGateways: z.number().int().min(0).max(2),
      /**
       * Seconds a draining host may go without reporting before its termination continues (the
       * lifecycle hook's heartbeat timeout, 30 to 7,200): a host that stopped reporting has died.
       */
      drainHeartbeatSeconds: z.number().int().min(30).max(7200),
      /**
       * Hours when nobody reads: each region's minimum drops to 0 at `nightStarts` and returns
       * to `minHosts` at `dayStarts` (cron expressions "minute hour day month weekday", in the
       * region's time zone: from `timeZones`, else that of the city the region is named for).
       * At night a region starts a host when a session finds none, and stops it once idle.
       * null (or unset): the minimum holds day and night.
       */
      schedule: z
        .strictObject({
          nightStarts: z.string().regex(cronExpression, 'expected a cron expression such as "0 20 * * *"'),
          dayStarts: z.string().regex(cronExpression, 'expected a cron expression such as "0 7 * * 1-5"'),
          timeZones: z
            .record(
              awsRegion,
              z
                .string()
                .regex(
                  /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/,
                  'expected an IANA time zone such as "Europe/Berlin"',
                ),
            )
            .optional(),
        })
        .nullable()
        .optional(),
    }),
    /** Tags on every resource. */
    tags: z.record(z.string().min(1).max(128), z.string().max(256)),
  })
  .superRefine((config, ctx) => {
    const { limits, conversion } = config;
    const sizes = FARGATE_MEMORY_MIB[conversion.containerVcpus];
    if (
      sizes &&
      (conversion.containerMemoryMiB < sizes.min ||
        conversion.containerMemoryMiB > sizes.max ||
        conversion.containerMemoryMiB % sizes.step !== 0)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['conversion', 'containerMemoryMiB'],
        message: `Fargate allows ${sizes.min} to ${sizes.max} MiB in steps of ${sizes.step} with ${conversion.containerVcpus} vCPUs`,
      });
    }
    if (conversion.maxVcpus < conversion.containerVcpus) {
      ctx.addIssue({
        code: 'custom',
        path: ['conversion', 'maxVcpus'],
        message: 'must be at least conversion.containerVcpus, or no converter container can start',
      });
    }
    if (limits.uploadBytesVerifiedUser < limits.uploadBytesUnverifiedUser) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'uploadBytesVerifiedUser'],
        message: 'must not be smaller than limits.uploadBytesUnverifiedUser',
      });
    }
    if (config.urlSigningKeyRetiredGeneration >= config.urlSigningKeyGeneration) {
      ctx.addIssue({
        code: 'custom',
        path: ['urlSigningKeyRetiredGeneration'],
        message: 'must be below urlSigningKeyGeneration: the generation that signs cannot be retired',
      });
    }
    // Each job's writable root lives on the instance's container volume, beside images and /input.
    if (limits.writableRootBytes > (config.compute.instanceVolumeGiB * GiB) / 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'writableRootBytes'],
        message:
          'must not exceed half of compute.instanceVolumeGiB, which also holds images, inputs and outputs',
      });
    }
    checkViewerFleet(config, ctx);
    for (const key of ['activeJobsPerUser', 'activeJobsPerAlgorithm'] as const) {
      if (limits[key] > limits.activeJobsTotal) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', key],
          message: 'must not exceed limits.activeJobsTotal',
        });
      }
    }
  });

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

/** The time zone of a viewer region's schedule: the configured one, else its city's. */
export function viewerTimeZone(config: PlatformConfig, region: string): string | undefined {
  return config.viewerFleet.schedule?.timeZones?.[region] ?? REGION_TIME_ZONES[region];
}

/** vCPUs of an instance size, and GiB of memory per vCPU of each series (EC2 instance types). */
const VCPUS_OF_SIZE: Readonly<Record<string, number>> = { large: 2, xlarge: 4 };
const GIB_PER_VCPU: Readonly<Record<string, number>> = { c: 2, m: 4, r: 8 };
/** What a viewer host keeps for itself: the system, Docker and the host process. */
const HOST_RESERVE = { memoryMiB: 2048, milliCpus: 500 };
/** Auto Scaling holds a terminating instance at most 48 hours or 100 heartbeat timeouts. */
const LIFECYCLE_HOOK_MAX_SECONDS = 48 * 3600;

/** The vCPUs and memory of a viewer host's instance type, as the schema's pattern allows them. */
export function viewerHostSize(instanceType: string): { vcpus: number; memoryMiB: number } {
  const [family, size] = instanceType.split('.');
  const vcpus = VCPUS_OF_SIZE[size] ?? 4 * Number(size.replace('xlarge', ''));
  return { vcpus, memoryMiB: vcpus * GIB_PER_VCPU[family[0]] * 1024 };
}

/** What the viewer fleets' settings must agree on, with each other and with the session limits. */
function checkViewerFleet(config: PlatformConfig, ctx: z.RefinementCtx): void {
  const fleet = config.viewerFleet;
  const where = (key: string) => ['viewerFleet', key];
  // An instance type the schema refused has no size to check against.
  const host = VIEWER_INSTANCE_TYPE.test(fleet.instanceType)
    ? viewerHostSize(fleet.instanceType)
    : { vcpus: Infinity, memoryMiB: Infinity };
  if (fleet.sessionsPerHost * fleet.sessionMemoryMiB > host.memoryMiB - HOST_RESERVE.memoryMiB) {
    ctx.addIssue({
      code: 'custom',
      path: where('sessionsPerHost'),
      message: `${fleet.sessionsPerHost} sessions of ${fleet.sessionMemoryMiB} MiB need more than the ${host.memoryMiB - HOST_RESERVE.memoryMiB} MiB that a ${fleet.instanceType} leaves them (${HOST_RESERVE.memoryMiB} MiB stay with the host)`,
    });
  }
  if (fleet.sessionsPerHost * fleet.sessionMilliCpus > host.vcpus * 1000 - HOST_RESERVE.milliCpus) {
    ctx.addIssue({
      code: 'custom',
      path: where('sessionMilliCpus'),
      message: `${fleet.sessionsPerHost} sessions of ${fleet.sessionMilliCpus} milli-vCPUs need more than the ${host.vcpus * 1000 - HOST_RESERVE.milliCpus} that a ${fleet.instanceType} leaves them`,
    });
  }
  if (fleet.warmSlots > 0 && fleet.minHosts < 1) {
    ctx.addIssue({
      code: 'custom',
      path: where('minHosts'),
      message:
        'must be at least 1 when viewerFleet.warmSlots is above 0: hosts publish the free slots that scaling keeps warm, so with none running none would start (set a schedule for nights at zero)',
    });
  }
  for (const region of fleet.schedule ? config.viewerRegions : []) {
    if (!viewerTimeZone(config, region)) {
      ctx.addIssue({
        code: 'custom',
        path: [...where('schedule'), 'timeZones', region],
        message: `names no time zone for the viewer region ${region}`,
      });
    }
  }
  if (fleet.minHosts > fleet.maxHosts) {
    ctx.addIssue({
      code: 'custom',
      path: where('minHosts'),
      message: 'must not exceed viewerFleet.maxHosts',
    });
  }
  if (fleet.maxHosts * fleet.sessionsPerHost < config.limits.viewerSessionsPerRegion) {
    ctx.addIssue({
      code: 'custom',
      path: where('maxHosts'),
      message: `${fleet.maxHosts} hosts of ${fleet.sessionsPerHost} sessions cannot hold the ${config.limits.viewerSessionsPerRegion} sessions that limits.viewerSessionsPerRegion allows`,
    });
  }
  if (fleet.warmSlots > fleet.maxHosts * fleet.sessionsPerHost) {
    ctx.addIssue({
      code: 'custom',
      path: where('warmSlots'),
      message: 'must not exceed the slots of viewerFleet.maxHosts hosts (maxHosts x sessionsPerHost)',
    });
  }
  // A draining host reports every heartbeat until its last session ends, at the latest.
  const held = Math.min(LIFECYCLE_HOOK_MAX_SECONDS, 100 * fleet.drainHeartbeatSeconds);
  if (config.limits.viewerSessionMaxSeconds > held) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'viewerSessionMaxSeconds'],
      message: `a host being scaled in is held at most ${held} s (48 hours, or 100 x viewerFleet.drainHeartbeatSeconds), so a session may not last longer`,
    });
  }
  const regions = Object.keys(config.domains.viewer?.regions ?? {});
  for (const region of regions) {
    const certificateRegion = config.domains.viewer!.regions![region].certificateArn.split(':')[3];
    if (!config.viewerRegions.includes(region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['domains', 'viewer', 'regions', region],
        message: `${region} is not one of viewerRegions`,
      });
    } else if (certificateRegion !== region) {
      ctx.addIssue({
        code: 'custom',
        path: ['domains', 'viewer', 'regions', region, 'certificateArn'],
        message: `the load balancer in ${region} needs a certificate from ${region}, not ${certificateRegion}`,
      });
    }
  }
}

/**
 * The embedded default: what `cdk synth` and `npm start` use when nothing is configured.
 * Regions follow the reference deployment (data in Frankfurt, viewers in Europe, Japan and
 * North America); limits follow the reference system's defaults.
 */
export const defaultPlatformConfig: PlatformConfig = {
  name: 'ImagingPlatform',
  homeRegion: 'eu-central-1',
  viewerRegions: ['eu-central-1', 'ap-northeast-1', 'us-east-2'],
  domains: {},
  users: { selfSignUp: true, threatProtection: true },
  operations: { alarmEmails: [], detailedApiMetrics: false, runnableAlarmMinutes: 60, tracing: true },
  webOrigins: ['http://localhost:4000', 'http://127.0.0.1:4000'],
  compute: {
    gpuInstanceTypes: ['g4dn.xlarge', 'g4dn.2xlarge'],
    maxVcpus: 256,
    cpuInstanceTypes: ['c6i', 'm6i'],
    cpuMaxVcpus: 64,
    purchaseOption: 'both',
    instanceVolumeGiB: 100,
    criticalFindings: 'refuse',
    capacityWaitMinutes: 120,
    availabilityZones: 2,
  },
  conversion: {
    lambdaMaxSetBytes: GiB,
    // A several-GB slide is held in memory once read, its tiled pyramid again as it is written.
    containerVcpus: 4,
    containerMemoryMiB: 30 * 1024,
    containerStorageGiB: 100,
    maxVcpus: 64,
  },
  builds: {
    contextBytes: 2 * GiB,
    contextEntries: 100_000,
    contextExtractedBytes: 10 * GiB,
    perUser: 2,
    timeoutMinutes: 60,
    computeType: 'BUILD_GENERAL1_MEDIUM',
    retiredImageDays: 30,
  },
  limits: {
    activeJobsPerUser: 16,
    activeJobsPerAlgorithm: 16,
    activeJobsTotal: 128,
    outputFilesPerImageFolder: 1000,
    outputFiles: 10_000,
    outputBytes: 50 * GiB,
    writableRootBytes: 30 * GiB,
    uploadBytesUnverifiedUser: 2 * GiB,
    uploadBytesVerifiedUser: 128 * GiB,
    modelBytes: 20 * GiB,
    modelEntries: 100_000,
    modelExtractedBytes: 50 * GiB,
    uploadPartBytes: 32 * MiB,
    copyPartBytes: 64 * MiB,
    incompleteUploadDays: 1,
    uploadsPerImage: MAX_UPLOADS_PER_IMAGE,
    viewerSessionsPerRegion: 10,
    viewerSessionsPerUser: 3,
    viewerSessionMaxSeconds: 10_000,
    signedUrlSeconds: 300,
  },
  retention: {
    noncurrentVersionDays: 30,
    convertedUploadDays: 1,
    buildSourceDays: 7,
    accessLogDays: 365,
    logRetentionDays: 365,
  },
  urlSigningKeyGeneration: 1,
  urlSigningKeyRetiredGeneration: 0,
  viewerFleet: {
    // 8 vCPUs and 32 GiB: 4 sessions of 1.5 vCPUs and 6 GiB (a 512x512x500 CT is 250 MB as read,
    // several times that in rendering buffers), with room for the host.
    instanceType: 'm7i.2xlarge',
    sessionsPerHost: 4,
    sessionMemoryMiB: 6144,
    sessionMilliCpus: 1500,
    minHosts: 1,
    maxHosts: 5,
    warmSlots: 2,
    stoppedHosts: 1,
    natGateways: 0,
    drainHeartbeatSeconds: 600,
    // Weekday daytime in each region's own time zone; nights and weekends start from zero.
    schedule: { nightStarts: '0 20 * * *', dayStarts: '0 7 * * 1-5' },
  },
  tags: { project: 'imaging-platform' },
};
