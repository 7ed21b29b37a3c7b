import { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import * as path from 'node:path';
import { CONVERSION_QUEUE } from '../../lambda/contracts/conversion-queue';
import { VIEWER_FLEET_TAG } from '../../lambda/contracts/viewer-host';
import { environmentGroups } from '../../lambda/contracts/handler-environment';
import { TABLE_NAMES, TableName, TABLES, TableSchema } from '../../lambda/contracts/tables';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../../lambda/deployments';
import { requestModelSchema } from '../../lib/api/request-model-schema';
import { securityChecks } from '../../lib/core/security-checks';
import { defaultPlatform, synthPlatform } from '../helpers/synth-platform';

/** A value of a synthesized template, as `Template.toJSON()` types it. */
type Json = ReturnType<Template['toJSON']>[string];
type Resources = Record<string, { Type: string; Properties: Record<string, Json>; DeletionPolicy?: string }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Json> };

const operations = API_OPERATIONS.map((operation) => ({
  path: operation.path,
  method: operation.method.toLowerCase(),
  operation,
}));
const operationIds = operations.map(({ operation }) => operation.operationId);
const tableNames = Object.keys(TABLES) as TableName[];

/**
 * What each handler's role may do besides writing its own logs and X-Ray traces, as
 * `action on resource`. Resources: `table:<name>`, `objects:<prefix>`, `queue:conversion`, `queue:builds`,
 * `codepipeline:<pipeline>`, `codebuild:project/<project>`, `ecr:repository/<name>`, `logs:<group>:log-stream:*`,
 * `parameter:<name> in <region>` (an SSM parameter), `secret:current-signing-key` (names the key pair that signs), `secret:url-signing-key/*` (the key
 * pairs' private keys), `secret:page-token-key`, and `key via <service>` for the data stack's KMS key used through a
 * service. Read from the handlers' code, apart from the deployments written beside them.
 */
/** Each viewer region's published origin, one parameter per region. */
const VIEWER_ENDPOINTS = ['eu-central-1', 'ap-northeast-1', 'us-east-2'].map(
  (region) => `ssm:GetParameter on parameter:/ImagingPlatform/viewer/endpoint in ${region}`,
);

const EXPECTED_GRANTS: Record<string, string[]> = {
  getHealth: [],
  getOpenApiDocument: [],
  createUpload: [
    'dynamodb:PutItem on table:uploads',
    'dynamodb:GetItem on table:usage',
    'dynamodb:UpdateItem on table:usage',
    'kms:Decrypt on key via dynamodb',
    's3:PutObject on objects:uploads/*',
    's3:AbortMultipartUpload on objects:uploads/*',
    'kms:GenerateDataKey on key via s3',
    'kms:Decrypt on key via s3',
  ],
  getUpload: ['dynamodb:GetItem on table:uploads', 'kms:Decrypt on key via dynamodb'],
  signUploadParts: [
    'dynamodb:GetItem on table:uploads',
    'kms:Decrypt on key via dynamodb',
    's3:PutObject on objects:uploads/*',
    'kms:GenerateDataKey on key via s3',
    'kms:Decrypt on key via s3',
  ],
  completeUpload: [
    'dynamodb:GetItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'dynamodb:UpdateItem on table:usage',
    'kms:Decrypt on key via dynamodb',
    's3:PutObject on objects:uploads/*',
    's3:GetObject on objects:uploads/*',
    's3:DeleteObject on objects:uploads/*',
    's3:AbortMultipartUpload on objects:uploads/*',
    'kms:GenerateDataKey on key via s3',
    'kms:Decrypt on key via s3',
    // A build's context queues its build, or cancels it when discarded.
    'dynamodb:GetItem on table:builds',
    'dynamodb:UpdateItem on table:builds',
    'sqs:SendMessage on queue:builds',
    'kms:GenerateDataKey on key via sqs',
    'kms:Decrypt on key via sqs',
  ],
  abortUpload: [
    'dynamodb:GetItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'dynamodb:UpdateItem on table:usage',
    // The build whose context it was is cancelled.
    'dynamodb:UpdateItem on table:builds',
    'kms:Decrypt on key via dynamodb',
    's3:AbortMultipartUpload on objects:uploads/*',
  ],
  createImage: [
    'dynamodb:GetItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'dynamodb:PutItem on table:images',
    'dynamodb:DeleteItem on table:images',
    'dynamodb:GetItem on table:images',
    // The file list, in pages that no condition guards: the image id is fresh.
    'dynamodb:BatchWriteItem on table:imageFiles',
    'kms:Decrypt on key via dynamodb',
    'sqs:SendMessage on queue:conversion',
    'kms:GenerateDataKey on key via sqs',
    'kms:Decrypt on key via sqs',
  ],
  getImage: [
    'dynamodb:GetItem on table:images',
    'dynamodb:Query on table:imageFiles',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:current-signing-key',
    'secretsmanager:GetSecretValue on secret:url-signing-key/*',
    'kms:Decrypt on key via secretsmanager',
  ],
  createAlgorithm: [
    'dynamodb:PutItem on table:algorithms',
    'dynamodb:Query on table:algorithmVersions',
    'dynamodb:PutItem on table:algorithmVersions',
    'dynamodb:PutItem on table:memberships',
    'kms:Decrypt on key via dynamodb',
    // The version's job definition, with the job roles passed to Batch only.
    'batch:RegisterJobDefinition on batch:job-definition/ImagingPlatform-algorithm-*',
    'batch:DeregisterJobDefinition on batch:job-definition/ImagingPlatform-algorithm-*',
    'batch:TagResource on batch:job-definition/ImagingPlatform-algorithm-*',
    'iam:PassRole on role:ImagingPlatform-job',
    'iam:PassRole on role:ImagingPlatform-job-execution',
    // Its image's manifest, configuration and scan.
    'ecr:BatchGetImage on ecr:repository/*',
    'ecr:GetDownloadUrlForLayer on ecr:repository/*',
    'ecr:DescribeImageScanFindings on ecr:repository/*',
  ],
  listAlgorithms: [
    'dynamodb:Query on table:memberships',
    'dynamodb:GetItem on table:algorithms',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:page-token-key',
    'kms:Decrypt on key via secretsmanager',
  ],
  getAlgorithm: ['dynamodb:GetItem on table:algorithms', 'kms:Decrypt on key via dynamodb'],
  setAlgorithmUsers: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:UpdateItem on table:algorithms',
    'dynamodb:PutItem on table:memberships',
    'dynamodb:DeleteItem on table:memberships',
    'kms:Decrypt on key via dynamodb',
  ],
  createAlgorithmVersion: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:UpdateItem on table:algorithms',
    'dynamodb:Query on table:algorithmVersions',
    'dynamodb:PutItem on table:algorithmVersions',
    'kms:Decrypt on key via dynamodb',
    // The version's job definition, with the job roles passed to Batch only.
    'batch:RegisterJobDefinition on batch:job-definition/ImagingPlatform-algorithm-*',
    'batch:DeregisterJobDefinition on batch:job-definition/ImagingPlatform-algorithm-*',
    'batch:TagResource on batch:job-definition/ImagingPlatform-algorithm-*',
    'iam:PassRole on role:ImagingPlatform-job',
    'iam:PassRole on role:ImagingPlatform-job-execution',
    // Its image's manifest, configuration and scan.
    'ecr:BatchGetImage on ecr:repository/*',
    'ecr:GetDownloadUrlForLayer on ecr:repository/*',
    'ecr:DescribeImageScanFindings on ecr:repository/*',
    // The version it retires: a build's image moves from its version tag to a retired one.
    'ecr:BatchGetImage on ecr:<the algorithm repository>',
    'ecr:PutImage on ecr:<the algorithm repository>',
    'ecr:BatchDeleteImage on ecr:<the algorithm repository>',
  ],
  // The upload is pinned and claimed for the model; the validator copies it.
  createAlgorithmModel: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'dynamodb:PutItem on table:algorithmModels',
    'kms:Decrypt on key via dynamodb',
    'kms:Decrypt on key via s3',
    's3:GetObject on objects:uploads/*',
  ],
  listAlgorithmModels: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:Query on table:algorithmModels',
    'kms:Decrypt on key via dynamodb',
    'kms:Decrypt on key via secretsmanager',
    'secretsmanager:GetSecretValue on secret:page-token-key',
  ],
  getAlgorithmModel: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:algorithmModels',
    'kms:Decrypt on key via dynamodb',
  ],
  activateAlgorithmModel: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:UpdateItem on table:algorithms',
    'dynamodb:GetItem on table:algorithmModels',
    'kms:Decrypt on key via dynamodb',
  ],
  // A build slot, then the upload as createUpload makes it, then the build.
  createBuild: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:usage',
    'dynamodb:UpdateItem on table:usage',
    'dynamodb:PutItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'dynamodb:PutItem on table:builds',
    'dynamodb:UpdateItem on table:builds',
    'kms:Decrypt on key via dynamodb',
    's3:PutObject on objects:uploads/*',
    's3:AbortMultipartUpload on objects:uploads/*',
    'kms:GenerateDataKey on key via s3',
    'kms:Decrypt on key via s3',
  ],
  listBuilds: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:Query on table:builds',
    'kms:Decrypt on key via dynamodb',
    'kms:Decrypt on key via secretsmanager',
    'secretsmanager:GetSecretValue on secret:page-token-key',
  ],
  getBuild: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:builds',
    'kms:Decrypt on key via dynamodb',
    "logs:GetLogEvents on logs:<the api stack's build log group>:log-stream:*",
  ],
  // The build ends, a Pending one's upload is aborted; its execution, CodeBuild build and
  // candidate image are stopped and removed.
  cancelBuild: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:builds',
    'dynamodb:UpdateItem on table:builds',
    'dynamodb:UpdateItem on table:usage',
    'dynamodb:GetItem on table:uploads',
    'dynamodb:UpdateItem on table:uploads',
    'kms:Decrypt on key via dynamodb',
    's3:AbortMultipartUpload on objects:uploads/*',
    's3:PutObjectTagging on objects:uploads/*',
    's3:DeleteObject on objects:uploads/*',
    'codepipeline:StopPipelineExecution on codepipeline:ImagingPlatform-algorithm-builds',
    'codebuild:StopBuild on codebuild:project/ImagingPlatform-algorithm-builds',
    'ecr:BatchDeleteImage on ecr:<the algorithm repository>',
  ],
  submitJob: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:GetItem on table:images',
    'dynamodb:GetItem on table:uploads',
    'dynamodb:PutItem on table:idempotencyKeys',
    'dynamodb:GetItem on table:idempotencyKeys',
    'dynamodb:UpdateItem on table:idempotencyKeys',
    'dynamodb:DeleteItem on table:idempotencyKeys',
    'dynamodb:UpdateItem on table:activeJobs',
    'dynamodb:PutItem on table:jobs',
    'dynamodb:GetItem on table:jobs',
    'dynamodb:UpdateItem on table:jobs',
    'kms:Decrypt on key via dynamodb',
    // Only the manifest: the staging job copies the inputs.
    's3:PutObject on objects:jobs/*/inputs.json*',
    // Input images' and uploads' files are read for the version and size the staging job copies.
    's3:GetObject on objects:images/*',
    's3:GetObject on objects:uploads/*',
    // A prediction's manifest, and its stored outputs read for what the staging job copies.
    's3:GetObject on objects:jobs/*/inputs.json*',
    's3:GetObject on objects:jobs/*/outputs/*',
    'kms:GenerateDataKey on key via s3',
    'kms:Decrypt on key via s3',
    'batch:SubmitJob on batch:job-queue/ImagingPlatform-gpu-jobs',
    'batch:SubmitJob on batch:job-queue/ImagingPlatform-cpu-jobs',
    'batch:SubmitJob on batch:job-definition/ImagingPlatform-algorithm-*:*',
    'batch:SubmitJob on batch:job-queue/ImagingPlatform-job-input-staging',
    'batch:SubmitJob on batch:job-definition/ImagingPlatform-job-input-stager:*',
    // The staging job of a job that could not be submitted is stopped.
    'batch:TerminateJob on batch:job/*',
    'batch:TagResource on batch:job-queue/ImagingPlatform-gpu-jobs',
    'batch:TagResource on batch:job-queue/ImagingPlatform-cpu-jobs',
    'batch:TagResource on batch:job-definition/ImagingPlatform-algorithm-*:*',
  ],
  listJobs: [
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:Query on index:jobs/byOwner',
    'dynamodb:Query on index:jobs/byAlgorithm',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:page-token-key',
    'kms:Decrypt on key via secretsmanager',
  ],
  getJob: [
    'dynamodb:GetItem on table:jobs',
    'dynamodb:GetItem on table:algorithms',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:current-signing-key',
    'secretsmanager:GetSecretValue on secret:url-signing-key/*',
    'kms:Decrypt on key via secretsmanager',
  ],
  cancelJob: [
    'dynamodb:GetItem on table:jobs',
    'dynamodb:UpdateItem on table:jobs',
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:UpdateItem on table:activeJobs',
    'kms:Decrypt on key via dynamodb',
    'batch:TerminateJob on batch:job/*',
  ],
  getJobLogs: [
    'dynamodb:GetItem on table:jobs',
    'dynamodb:GetItem on table:algorithms',
    'kms:Decrypt on key via dynamodb',
    "logs:GetLogEvents on logs:<the compute stack's job log group>:log-stream:*",
  ],
  // Reads the images (or the job and its algorithm), claims slots, signs URLs and the credential.
  createSession: [
    'dynamodb:GetItem on table:images',
    'dynamodb:GetItem on table:jobs',
    'dynamodb:GetItem on table:algorithms',
    'dynamodb:PutItem on table:sessions',
    'dynamodb:PutItem on table:sessionSlots',
    'dynamodb:DeleteItem on table:sessionSlots',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:current-signing-key',
    'secretsmanager:GetSecretValue on secret:url-signing-key/*',
    'secretsmanager:GetSecretValue on secret:session-signing-key',
    'kms:Decrypt on key via secretsmanager',
    ...VIEWER_ENDPOINTS,
    // Wakes an empty fleet: finds the regions' groups, sets the capacity of tagged ones only.
    'autoscaling:DescribeAutoScalingGroups on *',
    ...['eu-central-1', 'ap-northeast-1', 'us-east-2'].map(
      (region) => `autoscaling:SetDesiredCapacity on viewer groups tagged ImagingPlatform in ${region}`,
    ),
  ],
  listViewerRegions: VIEWER_ENDPOINTS,
  getSession: ['dynamodb:GetItem on table:sessions', 'kms:Decrypt on key via dynamodb'],
  keepSessionAlive: [
    'dynamodb:GetItem on table:sessions',
    'dynamodb:UpdateItem on table:sessions',
    'dynamodb:UpdateItem on table:sessionSlots',
    'dynamodb:DeleteItem on table:sessionSlots',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:current-signing-key',
    'secretsmanager:GetSecretValue on secret:url-signing-key/*',
    'secretsmanager:GetSecretValue on secret:session-signing-key',
    'kms:Decrypt on key via secretsmanager',
  ],
  deleteSession: [
    'dynamodb:GetItem on table:sessions',
    'dynamodb:UpdateItem on table:sessions',
    'dynamodb:DeleteItem on table:sessionSlots',
    'kms:Decrypt on key via dynamodb',
  ],
  reportViewerState: [
    'dynamodb:GetItem on table:sessions',
    'dynamodb:UpdateItem on table:sessions',
    'dynamodb:UpdateItem on table:sessionSlots',
    'dynamodb:DeleteItem on table:sessionSlots',
    'kms:Decrypt on key via dynamodb',
    'secretsmanager:GetSecretValue on secret:current-signing-key',
    'secretsmanager:GetSecretValue on secret:url-signing-key/*',
    'secretsmanager:GetSecretValue on secret:session-signing-key',
    'kms:Decrypt on key via secretsmanager',
  ],
};

describe('api stack', () => {
  let template: Template;
  let resources: Resources;
  let dataTemplate: Template;
  let dataResources: Resources;
  let dataOutputs: Record<string, { Value: unknown }>;
  let dataKeyId: string;
  let tableIds: Record<TableName, string>;
  let conversionQueueId: string;
  let buildQueueId: string;
  let sessionSigningKeyId: string;

  const ofType = (type: string, among = resources) =>
    Object.entries(among).filter(([, r]) => r.Type === type);
  const logicalIdOf = (type: string, among = resources) => {
    const found = ofType(type, among);
    expect(found).toHaveLength(1);
    return found[0][0];
  };
  /** A value of this stack with each reference to the data stack replaced by what that stack outputs. */
  const resolved = (value: Json): Json =>
    JSON.parse(
      JSON.stringify(value, (_, v) =>
        v?.['Fn::GetStackOutput']?.StackName === 'ImagingPlatform-Data' ? dataStackValue(v) : v,
      ),
    );
  /** The data stack's value behind an Fn::GetStackOutput of this stack. */
  const dataStackValue = (value: Json) => {
    const output = value?.['Fn::GetStackOutput'];
    expect(output?.StackName).toBe('ImagingPlatform-Data');
    return dataOutputs[output.OutputName].Value;
  };
  const isDataKey = (value: unknown) =>
    JSON.stringify(resolved(value)) === JSON.stringify({ 'Fn::GetAtt': [dataKeyId, 'Arn'] });
  const methodOf = (operationId: string) => {
    const found = ofType('AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.OperationName === operationId,
    );
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };
  const functionOf = (operationId: string) => {
    const { handler } = API_OPERATIONS.find((o) => o.operationId === operationId)!;
    const found = ofType('AWS::Lambda::Function').filter(
      ([, f]) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === path.basename(handler),
    );
    expect(found).toHaveLength(1);
    return { id: found[0][0], properties: found[0][1].Properties };
  };
  beforeAll(() => {
    const { platform } = defaultPlatform();
    const logicalId = (construct: IConstruct) =>
      platform.data.getLogicalId(construct.node.defaultChild as CfnElement);
    tableIds = Object.fromEntries(
      tableNames.map((name) => [name, logicalId(platform.data.tables.table(name))]),
    ) as Record<TableName, string>;
    conversionQueueId = logicalId(platform.data.conversionQueue.queue);
    buildQueueId = logicalId(platform.data.buildQueue.queue);
    sessionSigningKeyId = logicalId(platform.data.sessionSigningKey.node.findChild('Resource'));
    template = Template.fromStack(platform.api);
    resources = template.toJSON().Resources;
    dataTemplate = Template.fromStack(platform.data);
    const data = dataTemplate.toJSON();
    dataResources = data.Resources;
    dataOutputs = data.Outputs;
    dataKeyId = Object.keys(data.Resources).find((id) => data.Resources[id].Type === 'AWS::KMS::Key')!;
  });

  test('there is one method per operation of the OpenAPI document, on its path', () => {
    const methods = ofType('AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    expect(methods.map(([, m]) => m.Properties.OperationName).sort()).toEqual([...operationIds].sort());
    for (const { method, operation } of operations) {
      expect(methodOf(operation.operationId).HttpMethod).toBe(method.toUpperCase());
    }
  });

  test('viewer sessions have their routes; only the viewer report is public, and it requires the Authorization header', () => {
    const routes = Object.fromEntries(
      API_OPERATIONS.filter((o) => o.handler.startsWith('sessions/')).map((o) => [
        o.operationId,
        `${methodOf(o.operationId).HttpMethod} ${o.path} ${methodOf(o.operationId).AuthorizationType}`,
      ]),
    );
    expect(routes).toEqual({
      createSession: 'POST /v1/sessions COGNITO_USER_POOLS',
      getSession: 'GET /v1/sessions/{sessionId} COGNITO_USER_POOLS',
      keepSessionAlive: 'POST /v1/sessions/{sessionId}/keep-alive COGNITO_USER_POOLS',
      deleteSession: 'DELETE /v1/sessions/{sessionId} COGNITO_USER_POOLS',
      listViewerRegions: 'GET /v1/viewer-regions COGNITO_USER_POOLS',
      reportViewerState: 'POST /v1/sessions/{sessionId}/viewer-report NONE',
    });
    expect(methodOf('reportViewerState').RequestParameters).toMatchObject({
      'method.request.header.Authorization': true,
    });
  });

  test('session handlers read the session key, viewer origin and limits from their environment', () => {
    const variables = functionOf('createSession').properties.Environment.Variables;
    expect(resolved(variables.SESSION_SIGNING_KEY_SECRET_ARN)).toEqual({
      'Fn::GetAtt': [sessionSigningKeyId, 'SecretArn'],
    });
    // By default each region's fleet publishes its own origin, read when a session starts there.
    expect(variables).toMatchObject({
      VIEWER_ORIGIN: '',
      VIEWER_REGIONS: 'eu-central-1,ap-northeast-1,us-east-2',
      VIEWER_ENDPOINT_PARAMETER_NAME: '/ImagingPlatform/viewer/endpoint',
      VIEWER_FLEET_NAME: 'ImagingPlatform',
      VIEWER_SESSIONS_PER_USER: '3',
      VIEWER_SESSIONS_PER_REGION: '10',
      VIEWER_SESSION_MAX_SECONDS: '10000',
    });
    expect(
      functionOf('getSession').properties.Environment.Variables.SESSION_SIGNING_KEY_SECRET_ARN,
    ).toBeUndefined();
  });

  test('every operation but the public ones needs a token of the platform user pool', () => {
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer');
    for (const { operation } of operations) {
      const method = methodOf(operation.operationId);
      if (operation.public) {
        expect([operation.operationId, method.AuthorizationType, method.AuthorizerId]).toEqual([
          operation.operationId,
          'NONE',
          undefined,
        ]);
      } else {
        expect([operation.operationId, method.AuthorizationType, method.AuthorizerId]).toEqual([
          operation.operationId,
          'COGNITO_USER_POOLS',
          { Ref: authorizerId },
        ]);
      }
    }
    expect(operations.some(({ operation }) => operation.public)).toBe(true);
  });

  test('the authorizer accepts ID tokens of the platform user pool from the Authorization header', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
    });
    const authorizer = resources[logicalIdOf('AWS::ApiGateway::Authorizer')].Properties;
    expect(resolved(authorizer.ProviderARNs)).toEqual([
      { 'Fn::GetAtt': [logicalIdOf('AWS::Cognito::UserPool', dataResources), 'Arn'] },
    ]);
  });

  test('every request body is validated against its schema of the document before a handler runs', () => {
    const validatorId = logicalIdOf('AWS::ApiGateway::RequestValidator');
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const withBody = operations.filter(({ operation }) => operation.requestSchema);
    expect(withBody.length).toBeGreaterThan(0);
    for (const { operation } of withBody) {
      const method = methodOf(operation.operationId);
      expect(method.RequestValidatorId).toEqual({ Ref: validatorId });
      const modelId = method.RequestModels['application/json'].Ref;
      const model = resources[modelId].Properties;
      expect(model.Name).toBe(operation.requestSchema!.name);
      expect(model.Schema).toEqual(
        JSON.parse(
          JSON.stringify({
            ...requestModelSchema(operation.requestSchema!.name, operation.requestSchema!.schema),
            schema: undefined,
            $schema: 'http://json-schema.org/draft-04/schema#',
          }),
        ),
      );
    }
  });

  test('path parameters are required; the query string and header parameters an operation declares are declared', () => {
    for (const { path, operation } of operations) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      const expected = {
        ...Object.fromEntries(names.map((name) => [`method.request.path.${name}`, true])),
        ...Object.fromEntries(
          (operation.parameters ?? []).map((p) => [
            `method.request.${p.in === 'query' ? 'querystring' : 'header'}.${p.name}`,
            p.required ?? false,
          ]),
        ),
      };
      expect([operation.operationId, methodOf(operation.operationId).RequestParameters ?? {}]).toEqual([
        operation.operationId,
        expected,
      ]);
    }
    expect(methodOf('listJobs').RequestParameters).toEqual({
      'method.request.querystring.algorithm': false,
      'method.request.querystring.status': false,
      'method.request.querystring.limit': false,
      'method.request.querystring.nextToken': false,
    });
    expect(methodOf('submitJob').RequestParameters).toEqual({
      'method.request.header.Idempotency-Key': false,
    });
  });

  test('each operation runs its own handler, from the folder its deployment names, through a proxy integration', () => {
    for (const { operation } of operations) {
      const integration = methodOf(operation.operationId).Integration;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri)).toContain(
        `"Fn::GetAtt":["${functionOf(operation.operationId).id}","Arn"]`,
      );
    }
  });

  test.each(operationIds)("%s's role may do exactly what its handler needs", (operationId) => {
    const fn = functionOf(operationId);
    const roleId = fn.properties.Role['Fn::GetAtt'][0];
    const statements: Statement[] = ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const describe = (statement: Statement, reference: Json): string => {
      if (reference === '*') return '*';
      const resource = resolved(reference);
      const text = JSON.stringify(resource);
      const service = statement.Condition?.StringEquals?.['kms:ViaService']?.split('.')[0];
      if (service && isDataKey(resource)) return `key via ${service}`;
      const table = tableNames.find(
        (name) => text === JSON.stringify({ 'Fn::GetAtt': [tableIds[name], 'Arn'] }),
      );
      if (table) return `table:${table}`;
      const objects = /\{"Ref":"ImagingBucket\w+"\},"\/(.+)"\]\]\}$/.exec(text);
      if (objects) return `objects:${objects[1]}`;
      if (text === JSON.stringify({ 'Fn::GetAtt': [conversionQueueId, 'Arn'] })) return 'queue:conversion';
      if (text === JSON.stringify({ 'Fn::GetAtt': [buildQueueId, 'Arn'] })) return 'queue:builds';
      const pipeline =
        /^\{"Fn::Join":\["",\["arn:aws:(codepipeline|codebuild):[^"]*",\{"Ref":"AWS::AccountId"\},":([^"]+)"\]\]\}$/.exec(
          text,
        );
      if (pipeline) return `${pipeline[1]}:${pipeline[2]}`;
      const index = /"Fn::GetAtt":\["(\w+)","Arn"\]\},"\/index\/(\w+)"/.exec(text);
      const indexTable = index && tableNames.find((name) => tableIds[name] === index[1]);
      if (indexTable) return `index:${indexTable}/${index![2]}`;
      const batch =
        /^\{"Fn::Join":\["",\["arn:aws:batch:[^"]*",\{"Ref":"AWS::AccountId"\},":([^"]+)"\]\]\}$/.exec(text);
      if (batch) return `batch:${batch[1]}`;
      // The data stack's repository, by the name it published.
      if (/:repository\/",\{"Ref":"AlgorithmRepository\w+"\}\]\]\}$/.test(text)) {
        return 'ecr:<the algorithm repository>';
      }
      if (
        /:log-group:\/ImagingPlatform\/algorithm-builds-",.*"AWS::StackId".*:log-stream:\*"\]\]\}$/.test(text)
      ) {
        return "logs:<the api stack's build log group>:log-stream:*";
      }
      const role = /":role\/([^"]+)"\]\]\}$/.exec(text);
      const repositories = /:ecr:.*":(repository\/[^"]+)"\]\]\}$/.exec(text);
      if (repositories) return `ecr:${repositories[1]}`;
      if (role) return `role:${role[1]}`;
      if (
        /:log-group:",\{"Fn::GetStackOutput":\{[^}]*"OutputName":"JobLogGroupName"\}\},":log-stream:\*"/.test(
          text,
        )
      ) {
        return "logs:<the compute stack's job log group>:log-stream:*";
      }
      const logGroup = /:log-group:([^"]+)"/.exec(text);
      if (logGroup) return `logs:${logGroup[1]}`;
      if (text === JSON.stringify({ 'Fn::GetAtt': [sessionSigningKeyId, 'SecretArn'] })) {
        return 'secret:session-signing-key';
      }
      const parameter =
        /^\{"Fn::Join":\["",\["arn:aws:ssm:([a-z0-9-]+):",\{"Ref":"AWS::AccountId"\},":parameter(\/[^"]+)"\]\]\}$/.exec(
          text,
        );
      if (parameter) return `parameter:${parameter[2]} in ${parameter[1]}`;
      const group =
        /^\{"Fn::Join":\["",\["arn:aws:autoscaling:([a-z0-9-]+):",\{"Ref":"AWS::AccountId"\},":autoScalingGroup:\*:autoScalingGroupName\/\*"\]\]\}$/.exec(
          text,
        );
      const tagged = statement.Condition?.StringEquals?.[`autoscaling:ResourceTag/${VIEWER_FLEET_TAG}`];
      if (group && tagged) return `viewer groups tagged ${tagged} in ${group[1]}`;
      if (/PageTokenKey/.test(text)) return 'secret:page-token-key';
      if (/CurrentKey/.test(text)) return 'secret:current-signing-key';
      if (/:secret:ImagingPlatform-Data\/url-signing-key\/\*"/.test(text)) return 'secret:url-signing-key/*';
      return text;
    };
    // Per action: CDK merges statements on the same resources (xray's and another's on *).
    const grants = statements.flatMap((s) =>
      [s.Action]
        .flat()
        .filter((a) => !['logs:CreateLogStream', 'logs:PutLogEvents'].includes(a) && !a.startsWith('xray:'))
        .flatMap((action) => [s.Resource].flat().map((resource) => `${action} on ${describe(s, resource)}`)),
    );
    expect(grants.sort()).toEqual(
      [...(EXPECTED_GRANTS[operationId] ?? ['an entry in EXPECTED_GRANTS'])].sort(),
    );
  });

  test('handlers write logs and X-Ray traces, to their own log group only', () => {
    for (const operationId of operationIds) {
      const fn = functionOf(operationId);
      expect(fn.properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/LogGroup/) });
    }
  });

  test('handlers learn the names of exactly the tables they may use', () => {
    for (const operationId of operationIds) {
      const variables = functionOf(operationId).properties.Environment.Variables;
      const granted = new Set(
        (EXPECTED_GRANTS[operationId] ?? [])
          .map((g) => /on (?:table|index):(\w+)/.exec(g)?.[1])
          .filter((t) => t !== undefined),
      );
      const named = tableNames.filter((name) => TABLE_NAMES[name].variableNames[0] in variables);
      expect([operationId, named.sort()]).toEqual([operationId, [...granted].sort()]);
    }
  });

  test('upload handlers get the bucket; those that size parts get the upload limits, the part signer the accelerate switch', () => {
    for (const operationId of ['createUpload', 'signUploadParts', 'completeUpload', 'abortUpload']) {
      const variables = functionOf(operationId).properties.Environment.Variables;
      expect(dataStackValue(variables.IMAGING_BUCKET)).toEqual({
        Ref: expect.stringMatching(/^ImagingBucket/),
      });
    }
    const limits = {
      UPLOAD_PART_BYTES: String(32 * 1024 ** 2),
      UPLOAD_QUOTA_UNVERIFIED_BYTES: String(2 * 1024 ** 3),
      UPLOAD_QUOTA_VERIFIED_BYTES: String(128 * 1024 ** 3),
      UPLOAD_PART_URL_SECONDS: '3600',
    };
    expect(functionOf('createUpload').properties.Environment.Variables).toMatchObject(limits);
    expect(functionOf('signUploadParts').properties.Environment.Variables).toMatchObject({
      ...limits,
      S3_ACCELERATE: 'true',
    });
  });

  test("each function's environment holds exactly the variables of its deployment", () => {
    const functions = [
      ...API_OPERATIONS,
      ...BACKGROUND_FUNCTIONS.filter((d) => d.trigger.kind !== 'customResource'),
    ];
    for (const deployment of functions) {
      const [, fn] = ofType('AWS::Lambda::Function').find(
        ([, f]) =>
          f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === path.basename(deployment.handler),
      )!;
      const expected = ['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME'].concat(
        environmentGroups(deployment).flatMap((group) => group.variableNames),
      );
      expect([deployment.handler, Object.keys(fn.Properties.Environment.Variables).sort()]).toEqual([
        deployment.handler,
        expected.sort(),
      ]);
    }
  });

  test('a request schema outside JSON Schema draft 4 stops synth', () => {
    expect(() => requestModelSchema('Odd', { type: 'object', properties: { kind: { const: 'x' } } })).toThrow(
      /schema Odd.properties.kind.const: "const" is not a JSON Schema draft 4 keyword/,
    );
  });

  test('the stage traces with X-Ray, throttles and logs errors but never request bodies; per-method metrics are off unless configured', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'api',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          LoggingLevel: 'ERROR',
          MetricsEnabled: false,
          DataTraceEnabled: false,
        },
      ],
    });
  });

  test('the stage writes one JSON access log line per request, with the caller, to an encrypted group', () => {
    const stage = resources[logicalIdOf('AWS::ApiGateway::Stage')].Properties;
    const line = JSON.parse(stage.AccessLogSetting.Format);
    expect(line).toMatchObject({
      requestId: '$context.requestId',
      sourceIp: '$context.identity.sourceIp',
      userId: '$context.authorizer.claims.sub',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
    });
    const logGroupId = JSON.stringify(stage.AccessLogSetting.DestinationArn).match(
      /"Ref":"(\w+)"\}\]\]\}$/,
    )![1];
    expect(isDataKey(resources[logGroupId].Properties.KmsKeyId)).toBe(true);
  });

  test('API Gateway writes execution logs to a group of this stack, encrypted and expiring', () => {
    const restApiId = logicalIdOf('AWS::ApiGateway::RestApi');
    const [, group] = ofType('AWS::Logs::LogGroup').find(([, g]) =>
      JSON.stringify(g.Properties.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    )!;
    expect(group.Properties.LogGroupName).toEqual({
      'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: restApiId }, '/api']],
    });
    expect(isDataKey(group.Properties.KmsKeyId)).toBe(true);
    expect(group.Properties.RetentionInDays).toBe(365);
  });

  test('every log group of the stack is encrypted with the data key, kept a year and retained', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(operations.length);
    for (const [id, group] of groups) {
      expect([
        id,
        isDataKey(group.Properties.KmsKeyId),
        group.Properties.RetentionInDays,
        group.DeletionPolicy,
      ]).toEqual([id, true, 365, 'Retain']);
    }
  });

  test("API Gateway's own errors come in the API's error shape", () => {
    const responses = ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => r.Properties);
    expect(responses.map((r) => r.ResponseType)).toEqual(
      expect.arrayContaining([
        'DEFAULT_4XX',
        'DEFAULT_5XX',
        'UNAUTHORIZED',
        'ACCESS_DENIED',
        'BAD_REQUEST_BODY',
        'REQUEST_TOO_LARGE',
        'THROTTLED',
      ]),
    );
    for (const response of responses) {
      const body = JSON.parse(
        response.ResponseTemplates['application/json'].replace('$context.error.messageString', '"a message"'),
      );
      expect([response.ResponseType, body]).toEqual([
        response.ResponseType,
        { error: { code: expect.stringMatching(/^[A-Z][A-Za-z]+$/), message: expect.any(String) } },
      ]);
      expect(response.ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/json'");
    }
  });

  test("API Gateway's own errors carry CORS headers, so browsers of the configured origins can read them", () => {
    const responses = ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => r.Properties);
    expect(responses.length).toBeGreaterThan(0);
    for (const response of responses) {
      expect([response.ResponseType, response.ResponseParameters]).toMatchObject([
        response.ResponseType,
        {
          // Two origins are configured: the caller's is echoed.
          'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.origin',
          'gatewayresponse.header.Vary': "'Origin'",
        },
      ]);
    }
    const single = Template.fromStack(
      synthPlatform({ 'platform.webOrigins': '["https://viewer.example.org"]' }).platform.api,
    );
    for (const response of Object.values(single.findResources('AWS::ApiGateway::GatewayResponse'))) {
      expect(
        response.Properties.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin'],
      ).toBe("'https://viewer.example.org'");
    }
  });

  test('a path or method that no route has is answered 404 NotFound', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"NotFound"') },
    });
  });

  test('CORS preflights allow the configured origins only', () => {
    const preflights = ofType('AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod === 'OPTIONS',
    );
    expect(preflights.length).toBeGreaterThan(0);
    for (const [, preflight] of preflights) {
      const [response] = preflight.Properties.Integration.IntegrationResponses;
      expect(response.ResponseParameters['method.response.header.Access-Control-Allow-Origin']).toBe(
        "'http://localhost:4000'",
      );
      // The headers operations declare, Idempotency-Key of POST /v1/jobs among them.
      expect(response.ResponseParameters['method.response.header.Access-Control-Allow-Headers']).toBe(
        "'Authorization,Content-Type,Idempotency-Key'",
      );
      expect(response.ResponseTemplates['application/json']).toContain(
        '#if($origin == "http://127.0.0.1:4000")',
      );
      expect(JSON.stringify(response)).not.toContain("'*'");
    }
  });

  test('the web ACL is regional and runs the three AWS managed rule groups', () => {
    const acl = resources[logicalIdOf('AWS::WAFv2::WebACL')].Properties;
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    const groups = acl.Rules.filter((r: Json) => r.Statement.ManagedRuleGroupStatement).map(
      (r: Json) => r.Statement.ManagedRuleGroupStatement,
    );
    expect(
      groups.map((g: { VendorName: string; Name: string }) => `${g.VendorName}/${g.Name}`).sort(),
    ).toEqual([
      'AWS/AWSManagedRulesAmazonIpReputationList',
      'AWS/AWSManagedRulesCommonRuleSet',
      'AWS/AWSManagedRulesKnownBadInputsRuleSet',
    ]);
  });

  test('the web ACL blocks an address that sends too many requests, with a 429 in the error shape', () => {
    const acl = resources[logicalIdOf('AWS::WAFv2::WebACL')].Properties;
    const rule = acl.Rules.find((r: Json) => r.Statement.RateBasedStatement);
    expect(rule.Statement.RateBasedStatement).toMatchObject({ AggregateKeyType: 'IP', Limit: 3000 });
    const block = rule.Action.Block.CustomResponse;
    expect(block.ResponseCode).toBe(429);
    expect(JSON.parse(acl.CustomResponseBodies[block.CustomResponseBodyKey].Content)).toEqual({
      error: { code: 'Throttled', message: expect.any(String) },
    });
  });

  test('completing an upload of many parts is not blocked by the common rule set body size rule', () => {
    const acl = resources[logicalIdOf('AWS::WAFv2::WebACL')].Properties;
    const common = acl.Rules.find(
      (r: Json) => r.Statement.ManagedRuleGroupStatement?.Name === 'AWSManagedRulesCommonRuleSet',
    );
    expect(common.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
    ]);
  });

  test('the web ACL is associated with the API stage', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [logicalIdOf('AWS::WAFv2::WebACL'), 'Arn'] },
      ResourceArn: {
        'Fn::Join': [
          '',
          Match.arrayWith([
            { Ref: logicalIdOf('AWS::ApiGateway::RestApi') },
            { Ref: logicalIdOf('AWS::ApiGateway::Stage') },
          ]),
        ],
      },
    });
  });

  test('the web ACL logs to an aws-waf-logs- group, without bearer tokens', () => {
    const config = resources[logicalIdOf('AWS::WAFv2::LoggingConfiguration')].Properties;
    expect(config.ResourceArn).toEqual({ 'Fn::GetAtt': [logicalIdOf('AWS::WAFv2::WebACL'), 'Arn'] });
    const [destination] = config.LogDestinationConfigs;
    expect(JSON.stringify(destination)).toMatch(/":log-group:",\{"Ref":"\w+"\}\]\]\}$/);
    const logGroupId = JSON.stringify(destination).match(/"Ref":"(\w+)"\}\]\]\}$/)![1];
    // Named as WAF requires, and anew with each creation of the stack, which may retain an older one.
    expect(JSON.stringify(resources[logGroupId].Properties.LogGroupName)).toMatch(
      /^\{"Fn::Join":\["",\["aws-waf-logs-ImagingPlatform-Api-",\{"Fn::Select":\[2,\{"Fn::Split":\["\/",\{"Ref":"AWS::StackId"\}\]\}\]\}\]\]\}$/,
    );
    expect(config.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }]);
  });

  test('there is one table per entry of TABLES, keyed as its schema says, billed on demand', () => {
    expect(ofType('AWS::DynamoDB::GlobalTable', dataResources)).toHaveLength(Object.keys(TABLES).length);
    for (const name of tableNames) {
      const schema: TableSchema = TABLES[name];
      const table = dataResources[tableIds[name]].Properties;
      expect([name, table.KeySchema]).toEqual([name, keySchema(schema.partitionKey, schema.sortKey)]);
      expect([name, table.GlobalSecondaryIndexes ?? []]).toEqual([
        name,
        (schema.indexes ?? []).map((index) => ({
          IndexName: index.name,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' },
        })),
      ]);
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      expect(
        table.AttributeDefinitions.every((a: { AttributeType: string }) => a.AttributeType === 'S'),
      ).toBe(true);
    }
  });

  test('every table has point-in-time recovery, deletion protection and the data key, and is retained', () => {
    for (const [id, table] of ofType('AWS::DynamoDB::GlobalTable', dataResources)) {
      const [replica] = table.Properties.Replicas;
      expect([id, table.DeletionPolicy, table.Properties.SSESpecification]).toEqual([
        id,
        'Retain',
        { SSEEnabled: true, SSEType: 'KMS' },
      ]);
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(replica.DeletionProtectionEnabled).toBe(true);
      expect(isDataKey(replica.SSESpecification.KMSMasterKeyId)).toBe(true);
    }
  });

  test('the user pool asks for strong passwords, verified email addresses and offers TOTP', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  test('threat protection is enforced on the Plus plan and acts on risky sign-ins and leaked passwords', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      UserPoolId: { Ref: logicalIdOf('AWS::Cognito::UserPool', dataResources) },
      ClientId: 'ALL',
      AccountTakeoverRiskConfiguration: {
        Actions: {
          LowAction: { EventAction: 'NO_ACTION', Notify: false },
          MediumAction: { EventAction: 'MFA_IF_CONFIGURED', Notify: false },
          HighAction: { EventAction: 'MFA_REQUIRED', Notify: false },
        },
      },
      CompromisedCredentialsRiskConfiguration: { Actions: { EventAction: 'BLOCK' } },
    });
  });

  test('the user pool has the verified attribute that the handlers read as custom:verified', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([
        {
          AttributeDataType: 'String',
          Mutable: true,
          Name: 'verified',
          StringAttributeConstraints: { MinLength: '4', MaxLength: '5' },
        },
      ]),
    });
  });

  test('the user pool is retained and protected from deletion', () => {
    dataTemplate.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  test('the app client signs in with SRP, has no secret or OAuth flows, and cannot set custom:verified', () => {
    const client = dataResources[logicalIdOf('AWS::Cognito::UserPoolClient', dataResources)].Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.ExplicitAuthFlows.sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(client.AllowedOAuthFlows).toBeUndefined();
    expect(client.ReadAttributes).toContain('custom:verified');
    expect(client.WriteAttributes).toEqual(['email']);
  });

  test('the conversion queue is encrypted, TLS only, and moves a message that failed 3 times to its dead-letter queue', () => {
    const queueId = conversionQueueId;
    const queue = dataResources[queueId].Properties;
    const deadLetterId = queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(CONVERSION_QUEUE.maxReceiveCount);
    expect(queue.VisibilityTimeout).toBe(CONVERSION_QUEUE.visibilityTimeoutSeconds);
    for (const id of [queueId, deadLetterId]) {
      expect(dataResources[id].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [dataKeyId, 'Arn'] });
      const policy = ofType('AWS::SQS::QueuePolicy', dataResources).find(([, p]) =>
        JSON.stringify(p.Properties.Queues).includes(id),
      )!;
      expect(policy[1].Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  test('handlers stop before API Gateway gives up on them after 29 s', () => {
    for (const operationId of operationIds) {
      expect(functionOf(operationId).properties.Timeout).toBeLessThan(29);
    }
  });
});

describe('api stack with a custom API domain', () => {
  test('the API serves the domain from a regional endpoint with TLS 1.2 at least', () => {
    const { platform } = synthPlatform({
      'platform.domains.api':
        '{"domainName":"api.example.org","certificateArn":"arn:aws:acm:eu-central-1:123456789012:certificate/0b3b5f2c-1111-2222-3333-444455556666"}',
    });
    const template = Template.fromStack(platform.api);
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.example.org',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn:
        'arn:aws:acm:eu-central-1:123456789012:certificate/0b3b5f2c-1111-2222-3333-444455556666',
      SecurityPolicy: 'TLS_1_2',
    });
    template.hasOutput('ApiUrl', { Value: 'https://api.example.org/v1' });
  });
});

describe('api stack placement', () => {
  test('the api stack is in the home region, with the data stack', () => {
    const { platform } = synthPlatform({ 'platform.homeRegion': 'ap-southeast-2' });
    expect(platform.api.region).toBe('ap-southeast-2');
    expect(platform.api.dependencies).toContain(platform.data);
  });
});

function keySchema(partitionKey: string, sortKey?: string) {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' }] : []),
  ];
}

describe('api stack background handlers', () => {
  let template: Template;
  let data: ReturnType<Template['toJSON']>;
  /** A value with each reference to the data stack replaced by what that stack outputs. */
  const resolved = (value: Json): Json =>
    JSON.parse(
      JSON.stringify(value, (_, v) =>
        v?.['Fn::GetStackOutput'] ? data.Outputs[v['Fn::GetStackOutput'].OutputName].Value : v,
      ),
    );
  const functionNamed = (handlerName: string) => {
    const found = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === handlerName,
    );
    if (!found) throw new Error(`no function for ${handlerName}`);
    return { id: found[0], properties: found[1].Properties };
  };

  beforeAll(() => {
    const { platform } = defaultPlatform();
    template = Template.fromStack(platform.api);
    data = Template.fromStack(platform.data).toJSON();
  });

  test('Batch state changes of the platform queues, and only those, reach the job state handler', () => {
    const fn = functionNamed('batch-job-state-change');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(fn.id),
    );
    expect(rules).toHaveLength(1);
    const pattern = rules[0].Properties.EventPattern;
    expect(pattern.source).toEqual(['aws.batch']);
    expect(pattern['detail-type']).toEqual(['Batch Job State Change']);
    expect(JSON.stringify(pattern.detail.jobQueue)).toMatch(
      /job-queue\/ImagingPlatform-gpu-jobs.*job-queue\/ImagingPlatform-cpu-jobs/,
    );
    expect(rules[0].Properties.Targets[0]).toMatchObject({
      RetryPolicy: { MaximumRetryAttempts: 8 },
      DeadLetterConfig: { Arn: expect.anything() },
    });
  });

  test('the job state handler reads job objects, writes no object, and queues image outputs as images', () => {
    const fn = functionNamed('batch-job-state-change');
    const roleId = fn.properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const objectGrants = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')));
    expect(objectGrants.flatMap((st) => [st.Action].flat())).toEqual(['s3:GetObject']);
    expect(JSON.stringify(objectGrants[0].Resource)).toMatch(/"\/jobs\/\*"\]\]\}$/);
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'sqs:SendMessage']));
    expect(fn.properties.Environment.Variables.CONVERSION_QUEUE_URL).toBeDefined();
  });

  test('the model validator runs every minute for up to 15 minutes, and touches only uploads and models', () => {
    const fn = functionNamed('validate-algorithm-models');
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes(fn.id),
    );
    expect(rule?.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(fn.properties.Timeout).toBe(900);
    expect(fn.properties.Environment.Variables.MODEL_ENTRIES).toBe('100000');
    const roleId = fn.properties.Role['Fn::GetAtt'][0];
    const objectResources = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      )
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')))
      .map((st) => JSON.stringify(st.Resource));
    expect(objectResources).toHaveLength(2);
    expect(objectResources.some((r) => r.endsWith('"/uploads/*"]]}'))).toBe(true);
    expect(objectResources.some((r) => r.endsWith('"/algorithms/*/models/*.tar.gz*"]]}'))).toBe(true);
  });

  test('the upload sweeper runs every hour', () => {
    const fn = functionNamed('upload-sweeper');
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes(fn.id),
    );
    expect(rule?.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(fn.properties.Environment.Variables.INCOMPLETE_UPLOAD_DAYS).toBe('1');
  });

  test('the converter consumes the conversion queue one image at a time and ends before the message reappears', () => {
    const fn = functionNamed('convert-image');
    const queueId = Object.keys(data.Resources).find(
      (id) => data.Resources[id].Properties?.RedrivePolicy !== undefined,
    )!;
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.FunctionName.Ref === fn.id,
    );
    expect(resolved(mapping.Properties)).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    const visibility = data.Resources[queueId].Properties.VisibilityTimeout;
    expect(fn.properties.Timeout).toBeLessThan(visibility);
  });

  test('messages that failed every try mark their image Failed', () => {
    const fn = functionNamed('fail-unconverted-image');
    const deadLetterId = Object.values(data.Resources)
      .map((q) => (q as Json).Properties?.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0])
      .find(Boolean);
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.FunctionName.Ref === fn.id,
    );
    expect(resolved(mapping.Properties.EventSourceArn)).toEqual({ 'Fn::GetAtt': [deadLetterId, 'Arn'] });
  });

  test('FAILED Batch state changes of the converter queue, and only those, reach the converter failure handler', () => {
    const fn = functionNamed('fail-converter-job');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(fn.id),
    );
    expect(rules).toHaveLength(1);
    const pattern = rules[0].Properties.EventPattern;
    expect(pattern).toMatchObject({
      source: ['aws.batch'],
      'detail-type': ['Batch Job State Change'],
      detail: { status: ['FAILED'] },
    });
    expect(pattern.detail.jobQueue).toHaveLength(1);
    expect(JSON.stringify(pattern.detail.jobQueue)).toMatch(/job-queue\/ImagingPlatform-conversion-jobs"/);
    expect(rules[0].Properties.Targets[0]).toMatchObject({
      RetryPolicy: { MaximumRetryAttempts: 8 },
      DeadLetterConfig: { Arn: expect.anything() },
    });
    // The job state handler of algorithm jobs never sees converter jobs, whose names are image ids.
    const jobRules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(functionNamed('batch-job-state-change').id),
    );
    expect(JSON.stringify(jobRules[0].Properties.EventPattern)).not.toContain('conversion-jobs');
  });

  test('the converter keeps sets up to the configured bound, with memory and /tmp for them, and submits the rest', () => {
    const fn = functionNamed('convert-image');
    expect(fn.properties.Environment.Variables).toMatchObject({
      LAMBDA_MAX_SET_BYTES: String(1024 ** 3),
      CONVERTER_JOB_QUEUE: 'ImagingPlatform-conversion-jobs',
      CONVERTER_JOB_DEFINITION: 'ImagingPlatform-image-converter',
    });
    expect(fn.properties.MemorySize).toBe(4096);
    expect(fn.properties.EphemeralStorage).toEqual({ Size: 1024 + 512 });
    const roleId = fn.properties.Role['Fn::GetAtt'][0];
    const batch = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('batch:')));
    expect(batch).toHaveLength(1);
    expect(batch[0].Action).toBe('batch:SubmitJob');
    const resources = [batch[0].Resource]
      .flat()
      .map((r) => /:(job-[a-z]+\/[^"]+)"\]\]\}$/.exec(JSON.stringify(r))?.[1]);
    expect(resources.sort()).toEqual([
      'job-definition/ImagingPlatform-image-converter:*',
      'job-queue/ImagingPlatform-conversion-jobs',
    ]);
  });

  test('a function with a dead-letter queue may use its key through SQS, or its failed events could not be kept', () => {
    for (const handlerName of ['batch-job-state-change', 'upload-sweeper', 'fail-converter-job']) {
      const fn = functionNamed(handlerName);
      const roleId = fn.properties.Role['Fn::GetAtt'][0];
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
      const viaSqs = statements.filter(
        (s) => s.Condition?.StringEquals?.['kms:ViaService'] === 'sqs.eu-central-1.amazonaws.com',
      );
      expect([handlerName, viaSqs.flatMap((s) => [s.Action].flat()).sort()]).toEqual([
        handlerName,
        ['kms:Decrypt', 'kms:GenerateDataKey'],
      ]);
    }
  });

  test('failed background invocations land in an encrypted dead-letter queue', () => {
    for (const handlerName of ['batch-job-state-change', 'upload-sweeper', 'fail-converter-job']) {
      const fn = functionNamed(handlerName);
      const queueId = resolved(fn.properties.DeadLetterConfig.TargetArn)['Fn::GetAtt'][0];
      expect(data.Resources[queueId].Properties.KmsMasterKeyId).toBeDefined();
    }
  });
});

describe('api stack without threat protection', () => {
  test('uses the Essentials plan, attaches no risk configuration, and passes the security checks', () => {
    const { app, platform } = synthPlatform({ 'platform.users.threatProtection': 'false' });
    const template = Template.fromStack(platform.data);
    template.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'ESSENTIALS' });
    template.resourceCountIs('AWS::Cognito::UserPoolRiskConfigurationAttachment', 0);
    const findings = securityChecks(app).flatMap((pack) =>
      pack.validateScope(app).violations.map((v) => v.ruleName),
    );
    expect(findings).toEqual([]);
  });
});
