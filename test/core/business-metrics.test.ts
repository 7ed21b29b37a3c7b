import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { apiHandler } from '../../lambda/api/api-handler';
import {
  BUSINESS_METRICS,
  CONVERSION_FAILURE_REASONS,
  metricPointProblem,
} from '../../lambda/contracts/business-metrics';
import { ApiOperation } from '../../lambda/contracts/handler-deployment';
import { backgroundHandler } from '../../lambda/core/background-handler';
import { recordMetric, withInvocationMetrics } from '../../lambda/core/business-metrics';
import { logger } from '../../lambda/core/logger';

// Each wrapper is one warm handler here: the same module instance, invoked twice, as a Lambda
// execution environment invokes it. What the first invocation recorded must not reach the second.

process.env.WEB_ORIGINS = 'https://app.example.org';
process.env.BUSINESS_METRIC_NAMESPACE = 'TestPlatform';
// Off for the other tests (jest.config.js); read when the first document is published.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
const context = (awsRequestId: string) => ({ awsRequestId }) as Context;

interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly string[][];
      readonly Metrics: readonly { Name: string; Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

let documents: EmfDocument[];
let spies: jest.SpyInstance[];

beforeEach(() => {
  documents = [];
  logger.setLogLevel('SILENT');
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as Partial<EmfDocument>;
        if (parsed._aws) documents.push(parsed as EmfDocument);
      }
      return true;
    }),
  );
});

afterEach(() => spies.forEach((spy) => spy.mockRestore()));

/** A document's one directive, and the names of its metrics. */
function directive(document: EmfDocument) {
  const [only] = document._aws.CloudWatchMetrics;
  expect(document._aws.CloudWatchMetrics).toHaveLength(1);
  return { ...only, names: only.Metrics.map((m) => m.Name).sort() };
}

describe('a warm function publishes each invocation with its own metrics and dimensions only', () => {
  test('a queue function: a failed invocation still publishes; the next carries none of its points', async () => {
    const handler = backgroundHandler(async (event: { fail?: boolean }) => {
      if (event.fail) {
        recordMetric('ConversionsFailed', 1, { Reason: 'OutOfMemory' });
        recordMetric('JobsEnded', 1, { Status: 'Failed', Queue: 'gpu' });
        throw new Error('the store is down');
      }
      recordMetric('ConversionsSucceeded', 1);
      recordMetric('ConversionSeconds', 2.5);
    });
    await expect(handler({ fail: true }, context('lambda-1'))).rejects.toThrow('the store is down');
    const first = documents.splice(0);
    await handler({}, context('lambda-2'));
    const second = documents.splice(0);

    // One document per set of dimensions: a job's queue never lands on a conversion count.
    expect(first.map(directive).map((d) => [d.names, d.Dimensions])).toEqual([
      [['ConversionsFailed'], [['service', 'Reason']]],
      [['JobsEnded'], [['service', 'Status', 'Queue']]],
    ]);
    expect(first[0]).toMatchObject({ Reason: 'OutOfMemory', ConversionsFailed: 1 });
    expect(first[0]).not.toHaveProperty('Queue');
    expect(first[1]).toMatchObject({ Status: 'Failed', Queue: 'gpu', JobsEnded: 1 });

    expect(second).toHaveLength(1);
    const { names, Dimensions, Namespace, Metrics } = directive(second[0]);
    expect(Namespace).toBe('TestPlatform');
    expect(names).toEqual(['ConversionSeconds', 'ConversionsSucceeded']);
    expect(Metrics).toContainEqual({ Name: 'ConversionSeconds', Unit: 'Seconds' });
    expect(Dimensions).toEqual([['service']]);
    expect(second[0]).toMatchObject({ ConversionsSucceeded: 1, ConversionSeconds: 2.5 });
    for (const key of ['Reason', 'Status', 'Queue', 'ConversionsFailed', 'JobsEnded']) {
      expect(second[0]).not.toHaveProperty(key);
    }
  });

  test('an API operation: points of one request are aggregated, and the next request starts empty', async () => {
    let call = 0;
    const handler = apiHandler(
      { operationId: 'completeThing', method: 'POST', path: '/v1/things', responses: {} } as ApiOperation,
      async () => {
        call++;
        if (call === 1) {
          recordMetric('UploadsCompleted', 1);
          recordMetric('UploadsCompleted', 1);
          recordMetric('UploadBytes', 2048);
        }
        return { status: 200, body: {} };
      },
    );
    const event = {
      requestContext: { requestId: 'r', authorizer: { claims: { sub: 'alice' } } },
      headers: {},
      body: null,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent;
    await handler(event, context('lambda-1'));
    await handler(event, context('lambda-2'));

    expect(documents).toHaveLength(1);
    expect(directive(documents[0]).Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'UploadsCompleted', Unit: 'Count' },
        { Name: 'UploadBytes', Unit: 'Bytes' },
      ]),
    );
    expect(documents[0]).toMatchObject({ UploadsCompleted: [1, 1], UploadBytes: 2048 });
  });

  test('points recorded outside an invocation are dropped when the next one starts', async () => {
    recordMetric('ImagesCreated', 1);
    await withInvocationMetrics(async () => recordMetric('JobsSubmitted', 1, { Queue: 'cpu' }));
    expect(documents.map(directive).map((d) => d.names)).toEqual([['JobsSubmitted']]);
  });

  test('an invocation that records nothing prints nothing', async () => {
    await withInvocationMetrics(async () => undefined);
    expect(documents).toEqual([]);
    expect(spies[0]).not.toHaveBeenCalled();
    expect(spies[1]).not.toHaveBeenCalled();
  });
});

describe('only the fixed dimensions and values of the contract are recorded', () => {
  test.each([
    [
      'ConversionsFailed',
      1,
      { Reason: 'the file was odd' },
      `ConversionsFailed's Reason must be one of ${CONVERSION_FAILURE_REASONS.join(', ')}, not "the file was odd"`,
    ],
    ['JobsEnded', 1, { Status: 'Failed' }, "JobsEnded's Queue must be one of gpu, cpu, not missing"],
    ['ImagesCreated', 1, { imageId: 'x' }, 'ImagesCreated has no dimension imageId'],
    ['UploadBytes', -1, {}, 'UploadBytes must be a finite number of at least 0, not -1'],
    ['ConversionSeconds', Number.NaN, {}, 'ConversionSeconds must be a finite number of at least 0, not NaN'],
  ] as const)('%s %s %j: %s', (name, value, dimensions, problem) => {
    expect(metricPointProblem(name, value, dimensions)).toBe(problem);
  });

  test('a point outside the contract is left out, logged, and the invocation goes on', async () => {
    const warnings: unknown[][] = [];
    const warned = jest.spyOn(logger, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args);
    });
    try {
      await withInvocationMetrics(async () => {
        // A job record without a queue, as `JobsEnded` would meet one.
        recordMetric('JobsEnded', 1, { Status: 'Failed', Queue: undefined as unknown as 'gpu' });
        recordMetric('ImagesCreated', 1);
      });
    } finally {
      warned.mockRestore();
    }
    expect(warnings).toEqual([
      ['business metric not recorded', { problem: "JobsEnded's Queue must be one of gpu, cpu, not missing" }],
    ]);
    expect(documents.map(directive).map((d) => d.names)).toEqual([['ImagesCreated']]);
  });

  test('every metric has a unit CloudWatch knows and dimensions of a few values each', () => {
    for (const definition of Object.values(BUSINESS_METRICS)) {
      expect(['Count', 'Seconds', 'Bytes']).toContain(definition.unit);
      const dimensions: Readonly<Record<string, readonly string[]>> = definition.dimensions;
      expect(Object.keys(dimensions).length).toBeLessThanOrEqual(2);
      for (const values of Object.values(dimensions)) expect(values.length).toBeLessThanOrEqual(10);
    }
  });
});
