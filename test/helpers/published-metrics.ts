/** An embedded metric format document, as CloudWatch Logs reads it from a log line. */
export interface EmfDocument {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly string[][];
      readonly Metrics: readonly { Name: string; Unit: string }[];
    }[];
  };
  readonly service: string;
  readonly [key: string]: unknown;
}

/**
 * Captures the embedded metric format documents that this process prints from now on, those of
 * local mode's sandboxes started from now on included (their output reaches this process's);
 * other output goes on. Metrics, off in tests (jest.config.js), are on until `stop`.
 */
export function capturePublishedMetrics() {
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const documents: EmfDocument[] = [];
  const isDocument = (line: string) => line.startsWith('{"_aws"');
  const spies = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    return jest
      .spyOn(stream, 'write')
      .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const lines = String(chunk).split('\n');
        for (const line of lines.filter(isDocument)) documents.push(JSON.parse(line) as EmfDocument);
        return lines.some(isDocument) ? true : write(chunk, ...rest);
      });
  });
  return {
    documents,
    /** The documents `service` published with metric `name`, once there are `count` (or after 10 s). */
    async publishedBy(service: string, name: string, count = 1): Promise<EmfDocument[]> {
      const found = () => documents.filter((d) => d.service === service && name in d);
      for (let attempt = 0; attempt < 100 && found().length < count; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(found()).toHaveLength(count);
      return found();
    },
    stop() {
      spies.forEach((spy) => spy.mockRestore());
      if (disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = disabled;
    },
  };
}

/** A document's one directive: its namespace, dimension sets, and metrics with their units. */
export function directiveOf(document: EmfDocument) {
  expect(document._aws.CloudWatchMetrics).toHaveLength(1);
  return document._aws.CloudWatchMetrics[0];
}
