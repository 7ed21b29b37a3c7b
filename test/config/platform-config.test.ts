import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkDeployable,
  loadPlatformConfig,
  PlatformConfigError,
} from '../../lib/config/load-platform-config';
import { defaultPlatformConfig } from '../../lib/config/platform-config';

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    loadPlatformConfig(context);
  } catch (err) {
    if (err instanceof PlatformConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('platform configuration', () => {
  test('the embedded default is valid and used when nothing is configured', () => {
    expect(loadPlatformConfig({})).toEqual(defaultPlatformConfig);
  });

  test('the default puts viewers in Europe, Japan and North America', () => {
    expect(defaultPlatformConfig.viewerRegions).toEqual(['eu-central-1', 'ap-northeast-1', 'us-east-2']);
  });

  test("the default limits are the reference system's", () => {
    expect(defaultPlatformConfig.limits).toMatchObject({
      activeJobsPerUser: 16,
      activeJobsPerAlgorithm: 16,
      activeJobsTotal: 128,
      uploadBytesUnverifiedUser: 2 * 1024 ** 3,
      uploadBytesVerifiedUser: 128 * 1024 ** 3,
      uploadPartBytes: 32 * 1024 ** 2,
      incompleteUploadDays: 1,
      viewerSessionsPerRegion: 10,
      signedUrlSeconds: 300,
    });
  });

  test("/output is limited per image output's folder as grand-challenge limits it, and in all", () => {
    expect(defaultPlatformConfig.limits).toMatchObject({
      outputFilesPerImageFolder: 1000,
      outputFiles: 10_000,
      outputBytes: 50 * 1024 ** 3,
    });
    expect(problemsOf({ 'platform.limits.outputFilesPerImageFolder': '0' })).toEqual([
      'platform.limits.outputFilesPerImageFolder: Too small: expected number to be >=1',
    ]);
  });

  test('a bad value fails with its key and what is allowed', () => {
    expect(problemsOf({ 'platform.compute.maxVcpus': '0' })).toEqual([
      'platform.compute.maxVcpus: Too small: expected number to be >=1',
    ]);
    expect(problemsOf({ 'platform.compute.purchaseOption': 'cheap' })).toEqual([
      'platform.compute.purchaseOption: Invalid option: expected one of "spot"|"on-demand"|"both"',
    ]);
    expect(problemsOf({ 'platform.homeRegion': 'mars-1' })).toEqual([
      'platform.homeRegion: expected an AWS region name such as "eu-central-1"',
    ]);
    expect(problemsOf({ 'platform.retention.logRetentionDays': '8' })[0]).toMatch(
      /^platform\.retention\.logRetentionDays: expected one of the CloudWatch Logs retention periods: 1, 3, 5,/,
    );
  });

  test('converter sizes must be a Fargate size, and the function bound must fit Lambda', () => {
    expect(problemsOf({ 'platform.conversion.containerVcpus': '3' })).toEqual([
      'platform.conversion.containerVcpus: expected one of the Fargate sizes: 0.25, 0.5, 1, 2, 4, 8, 16 vCPUs',
    ]);
    expect(problemsOf({ 'platform.conversion.containerMemoryMiB': String(64 * 1024) })).toEqual([
      'platform.conversion.containerMemoryMiB: Fargate allows 8192 to 30720 MiB in steps of 1024 with 4 vCPUs',
    ]);
    expect(
      problemsOf({
        'platform.conversion.containerVcpus': '8',
        'platform.conversion.containerMemoryMiB': String(18 * 1024),
      }),
    ).toEqual([
      'platform.conversion.containerMemoryMiB: Fargate allows 16384 to 61440 MiB in steps of 4096 with 8 vCPUs',
    ]);
    expect(problemsOf({ 'platform.conversion.containerStorageGiB': '300' })).toEqual([
      'platform.conversion.containerStorageGiB: Too big: expected number to be <=200',
    ]);
    expect(problemsOf({ 'platform.conversion.maxVcpus': '2' })).toEqual([
      'platform.conversion.maxVcpus: must be at least conversion.containerVcpus, or no converter container can start',
    ]);
    expect(problemsOf({ 'platform.conversion.lambdaMaxSetBytes': String(3 * 1024 ** 3) })).toEqual([
      'platform.conversion.lambdaMaxSetBytes: Too big: expected number to be <=2684354560',
    ]);
    expect(
      loadPlatformConfig({
        'platform.conversion.containerVcpus': '16',
        'platform.conversion.containerMemoryMiB': String(120 * 1024),
      }).conversion,
    ).toMatchObject({ containerVcpus: 16, containerMemoryMiB: 120 * 1024 });
  });

  test('an unknown key fails with the keys allowed in its place', () => {
    expect(problemsOf({ platform: { compute: { maxVcpu: 8 } } })).toEqual([
      'platform.compute.maxVcpu: unknown key; allowed here: gpuInstanceTypes, maxVcpus, cpuInstanceTypes, cpuMaxVcpus, purchaseOption, instanceVolumeGiB, criticalFindings, capacityWaitMinutes, availabilityZones',
    ]);
    expect(problemsOf({ 'platform.homeregion': 'eu-west-1' })[0]).toMatch(
      /^platform\.homeregion: unknown key; allowed here: name, account, homeRegion, viewerRegions,/,
    );
  });

  test('jobs may wait RUNNABLE an hour before the alarm tells of them, 10 minutes to a day', () => {
    expect(defaultPlatformConfig.operations.runnableAlarmMinutes).toBe(60);
    expect(loadPlatformConfig({ 'platform.operations.runnableAlarmMinutes': '30' }).operations).toMatchObject(
      {
        runnableAlarmMinutes: 30,
      },
    );
    expect(problemsOf({ 'platform.operations.runnableAlarmMinutes': '5' })).toEqual([
      'platform.operations.runnableAlarmMinutes: Too small: expected number to be >=10',
    ]);
  });

  test('every problem is reported at once', () => {
    expect(problemsOf({ platform: { homeRegion: 'x', viewerRegions: [] } })).toHaveLength(2);
  });

  test('a GPU instance outside the supported families is refused', () => {
    expect(problemsOf({ 'platform.compute.gpuInstanceTypes': '["m5.large"]' })).toEqual([
      'platform.compute.gpuInstanceTypes.0: expected a GPU instance type of the g4dn, g5, g6 or g6e family',
    ]);
  });

  test('a CPU instance type that is not x86-64 is refused, with the form expected', () => {
    expect(problemsOf({ 'platform.compute.cpuInstanceTypes': '["c6i","m7g.large"]' })).toEqual([
      'platform.compute.cpuInstanceTypes.1: expected an x86-64 instance type or family of the c, m or r series, generation 5 to 7, such as "c6i" or "m6i.2xlarge"',
    ]);
    expect(
      loadPlatformConfig({ 'platform.compute.cpuInstanceTypes': '["c6i.2xlarge","r5a","m6in.metal"]' })
        .compute.cpuInstanceTypes,
    ).toEqual(['c6i.2xlarge', 'r5a', 'm6in.metal']);
  });

  test('an instance volume smaller than 30 GiB is refused', () => {
    expect(
      problemsOf({
        'platform.compute.instanceVolumeGiB': '20',
        'platform.limits.writableRootBytes': String(8 * 1024 ** 3),
      }),
    ).toEqual(['platform.compute.instanceVolumeGiB: Too small: expected number to be >=30']);
  });

  test('a writable root must fit the instance volume beside images and inputs, in whole MiB', () => {
    expect(problemsOf({ 'platform.limits.writableRootBytes': String(60 * 1024 ** 3) })).toEqual([
      'platform.limits.writableRootBytes: must not exceed half of compute.instanceVolumeGiB, which also holds images, inputs and outputs',
    ]);
    expect(problemsOf({ 'platform.limits.writableRootBytes': String(64 * 1024 ** 2 + 1) })).toEqual([
      'platform.limits.writableRootBytes: must be a whole number of MiB',
    ]);
    expect(
      loadPlatformConfig({
        'platform.limits.writableRootBytes': String(60 * 1024 ** 3),
        'platform.compute.instanceVolumeGiB': '200',
      }).limits.writableRootBytes,
    ).toBe(60 * 1024 ** 3);
  });

  test('an images certificate outside us-east-1 is refused', () => {
    expect(
      problemsOf({
        'platform.domains.images': {
          domainName: 'images.example.org',
          certificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/abc-123',
        },
      }),
    ).toEqual([
      'platform.domains.images.certificateArn: CloudFront only accepts certificates from us-east-1',
    ]);
  });

  test('limits that contradict each other are refused', () => {
    expect(problemsOf({ 'platform.limits.activeJobsPerUser': '200' })).toEqual([
      'platform.limits.activeJobsPerUser: must not exceed limits.activeJobsTotal',
    ]);
  });

  test('the retired URL signing key generation must be below the one that signs', () => {
    expect(loadPlatformConfig({}).urlSigningKeyRetiredGeneration).toBe(0);
    const message =
      'platform.urlSigningKeyRetiredGeneration: must be below urlSigningKeyGeneration: the generation that signs cannot be retired';
    expect(problemsOf({ 'platform.urlSigningKeyRetiredGeneration': '1' })).toEqual([message]);
    expect(
      problemsOf({ 'platform.urlSigningKeyGeneration': '3', 'platform.urlSigningKeyRetiredGeneration': '4' }),
    ).toEqual([message]);
    expect(
      loadPlatformConfig({
        'platform.urlSigningKeyGeneration': '3',
        'platform.urlSigningKeyRetiredGeneration': '2',
      }),
    ).toMatchObject({ urlSigningKeyGeneration: 3, urlSigningKeyRetiredGeneration: 2 });
  });

  test('layers override in order: cdk.json object, config file, single -c keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-config-'));
    fs.writeFileSync(
      path.join(dir, 'prod.json'),
      JSON.stringify({ homeRegion: 'eu-west-1', compute: { maxVcpus: 64 }, viewerRegions: ['eu-west-1'] }),
    );
    const config = loadPlatformConfig(
      {
        platform: { homeRegion: 'us-west-2', compute: { purchaseOption: 'spot' } },
        platformConfigFile: 'prod.json',
        'platform.compute.maxVcpus': '512',
        'platform.account': '012345678901',
      },
      dir,
    );
    expect(config.homeRegion).toBe('eu-west-1');
    expect(config.viewerRegions).toEqual(['eu-west-1']);
    expect(config.compute).toEqual({
      ...defaultPlatformConfig.compute,
      purchaseOption: 'spot',
      maxVcpus: 512,
    });
    expect(config.account).toBe('012345678901');
  });

  test("a deploy keeps no local mode origin: synth with an account refuses the default's, offline synth takes it", () => {
    expect(() => checkDeployable(defaultPlatformConfig, undefined)).not.toThrow();
    expect(() => checkDeployable(defaultPlatformConfig, '123456789012')).toThrow(
      /webOrigins: names http:\/\/localhost:4000, http:\/\/127\.0\.0\.1:4000, which only local mode serves/,
    );
    for (const webOrigins of [['https://viewer.example.org'], []]) {
      const config = loadPlatformConfig({ platform: { account: '123456789012', webOrigins } });
      expect(() => checkDeployable(config, config.account)).not.toThrow();
    }
  });

  test('a missing or malformed config file is named', () => {
    expect(problemsOf({ platformConfigFile: '/nonexistent/platform.json' })[0]).toMatch(
      /^platformConfigFile: cannot read \/nonexistent\/platform\.json/,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-config-'));
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ homeRegion: ');
    expect(problemsOf({ platformConfigFile: path.join(dir, 'broken.json') })[0]).toMatch(/is not valid JSON/);
  });
});
