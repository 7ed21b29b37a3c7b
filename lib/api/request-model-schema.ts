import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { requestModelSchema as draft4Model } from '../../lambda/contracts/method-request';
import type { JsonSchema } from '../../lambda/contracts/schema-primitives';

/**
 * A schema of the OpenAPI document as the model CDK synthesizes: the draft 4 schema of the method
 * request contract (which fails on keywords outside draft 4), in CDK's spelling.
 */
export function requestModelSchema(name: string, schema: JsonSchema): apigateway.JsonSchema {
  const model: Record<string, unknown> = { ...draft4Model(name, schema) };
  delete model.$schema;
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, ...model } as apigateway.JsonSchema;
}
