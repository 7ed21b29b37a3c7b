import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import {
  CORS_ALLOW_METHODS,
  CORS_MAX_AGE_SECONDS,
  corsAllowHeaders,
} from '../../lambda/contracts/cors-preflight';
import {
  GATEWAY_RESPONSES,
  gatewayResponseHeaders,
  gatewayResponseTemplate,
} from '../../lambda/contracts/gateway-responses';
import { SchemaRef } from '../../lambda/contracts/handler-deployment';
import { MODEL_CONTENT_TYPE, requestParameters } from '../../lambda/contracts/method-request';
import { API_OPERATIONS } from '../../lambda/deployments';
import { HandlerAccess } from '../core/handler-access';
import { PlatformFunction } from '../core/platform-function';
import { requestModelSchema } from './request-model-schema';

export interface PlatformRestApiProps {
  /** Signs the ID tokens that every operation but the public ones requires. */
  readonly userPool: cognito.IUserPool;
  /** Grants each handler what its operation needs and gives it its environment. */
  readonly handlerAccess: HandlerAccess;
  /** Encrypts the log groups of the handlers and of the API. */
  readonly logEncryptionKey: kms.IKey;
  /** Days that the handlers' and the API's logs are kept. */
  readonly logRetentionDays: number;
  /** Browser origins that may call the API; none turns CORS off. */
  readonly webOrigins: readonly string[];
  /**
   * Requests per second that the stage accepts from all callers together.
   * @default 100
   */
  readonly rateLimit?: number;
  /**
   * Requests that the stage accepts at once above the rate.
   * @default 200
   */
  readonly burstLimit?: number;
  /**
   * Custom domain with a certificate from the API's region; TLS 1.2 at least.
   * @default - the execute-api domain only
   */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
  /**
   * Per-method CloudWatch metrics, billed as custom metrics; the API-wide ones are free.
   * @default false
   */
  readonly detailedMetrics?: boolean;
  /** X-Ray traces of the stage and of every handler. */
  readonly tracing: boolean;
}

/** Stage name; paths keep the document's `/v1` prefix, so URLs read `.../api/v1/uploads`. */
const STAGE_NAME = 'api';

/**
 * The REST API, built from the operations of `API_OPERATIONS` (each written beside its handler,
 * as the OpenAPI document is): one Lambda handler per operation behind a proxy integration,
 * the Cognito authorizer on every operation that is not public, request bodies validated against
 * the document's schemas before a handler runs, and errors of API Gateway itself in the API's
 * `{ error: { code, message } }` shape.
 */
export class PlatformRestApi extends Construct {
  readonly restApi: apigateway.RestApi;
  /** The handler of each operation, by operationId. */
  readonly handlers: ReadonlyMap<string, PlatformFunction>;
  /** Base URL of the API, including `/v1`. */
  readonly url: string;
  private readonly models = new Map<string, apigateway.Model>();

  constructor(scope: Construct, id: string, props: PlatformRestApiProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.restApi = new apigateway.RestApi(this, 'Api', {
      restApiName: stack.stackName,
      description: 'Imaging platform REST API, built from its OpenAPI document',
      // Calls are small JSON; image bytes travel through S3 Transfer Acceleration and CloudFront.
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      failOnWarnings: true,
      // Execution logs need the account's API Gateway logging role; it serves every API of the
      // account and region, so it stays when this stack goes.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.rateLimit ?? 100,
        throttlingBurstLimit: props.burstLimit ?? 200,
        tracingEnabled: props.tracing,
        metricsEnabled: props.detailedMetrics ?? false,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Full request and response logging would copy bodies, tokens included, into the logs.
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
      },
      defaultCorsPreflightOptions:
        props.webOrigins.length > 0
          ? {
              allowOrigins: [...props.webOrigins],
              allowMethods: [...CORS_ALLOW_METHODS],
              allowHeaders: [...corsAllowHeaders(API_OPERATIONS)],
              maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
            }
          : undefined,
      domainName: props.domain && {
        domainName: props.domain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        endpointType: apigateway.EndpointType.REGIONAL,
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      },
    });
    this.url = `${props.domain ? `https://${props.domain.domainName}/` : this.restApi.url}v1`;

    // API Gateway writes execution logs to this group; made here, it is encrypted and expires.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${STAGE_NAME}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.restApi.deploymentStage.node.addDependency(executionLogs);

    const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
    });
    const validator = this.restApi.addRequestValidator('BodyAndParameters', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    const handlers = new Map<string, PlatformFunction>();
    for (const operation of API_OPERATIONS) {
      const { operationId, path, method } = operation;
      const handler = new PlatformFunction(this, pascalCase(operationId), {
        handler: operation.handler,
        description: operation.summary,
        invokedBy: 'api',
        environment: props.handlerAccess.environment(operation),
        // Ends before API Gateway's 29 s integration timeout, so the handler's own log says why.
        sizing: { timeoutSeconds: 28 },
        tracing: props.tracing,
        logRetentionDays: props.logRetentionDays,
        logEncryptionKey: props.logEncryptionKey,
      });
      props.handlerAccess.grant(handler, operation.permissions);
      handlers.set(operationId, handler);

      const apiMethod = this.restApi.root
        .resourceForPath(path)
        .addMethod(method, new apigateway.LambdaIntegration(handler.function, { allowTestInvoke: false }), {
          operationName: operationId,
          ...(operation.public
            ? { authorizationType: apigateway.AuthorizationType.NONE }
            : { authorizationType: apigateway.AuthorizationType.COGNITO, authorizer }),
          requestValidator: validator,
          requestParameters: { ...requestParameters(operation) },
          requestModels: operation.requestSchema
            ? { [MODEL_CONTENT_TYPE]: this.requestModel(operation.requestSchema) }
            : undefined,
        });
      if (operation.public) {
        Validations.of(apiMethod).acknowledge(
          ...['AwsSolutions-APIG4', 'AwsSolutions-COG4'].map((ruleId) => ({
            id: ruleId,
            reason: `${operationId} is public in the OpenAPI document (${method} ${path}): ${operation.publicReason ?? 'it reveals no user data and must answer before a caller has signed in'}.`,
          })),
        );
      }
    }
    this.handlers = handlers;

    for (const preflight of this.restApi.methods.filter((m) => m.httpMethod === 'OPTIONS')) {
      Validations.of(preflight).acknowledge(
        ...['AwsSolutions-APIG4', 'AwsSolutions-COG4'].map((ruleId) => ({
          id: ruleId,
          reason:
            'CORS preflight: browsers send OPTIONS without credentials by design (Fetch standard), and the mock integration only answers which configured origins, methods and headers are allowed.',
        })),
      );
    }

    addErrorResponses(this.restApi, props.webOrigins);

    Validations.of(this.restApi.deploymentStage).acknowledge(
      ...['HIPAA.Security', 'NIST.800.53.R5'].flatMap((pack) => [
        {
          id: `${pack}-APIGWCacheEnabledAndEncrypted`,
          reason:
            "Every answer is one caller's data (uploads, jobs, signed URLs) and must be fresh; a stage cache would serve it to the next caller of the same path and costs hours of a cache cluster.",
        },
        {
          id: `${pack}-APIGWSSLEnabled`,
          reason:
            'API Gateway presents a stage client certificate only to HTTP backends; every integration here is a Lambda proxy that API Gateway invokes through IAM, which a certificate would not change.',
        },
      ]),
    );
    const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      const { managedPolicyArn } = iam.ManagedPolicy.fromAwsManagedPolicyName(
        'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      );
      Validations.of(cloudWatchRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::${flattenCfnReference(stack.resolve(managedPolicyArn))}]`,
        reason:
          "API Gateway's logging role is one setting per account and region, shared by every REST API there; AWS documents this managed policy for it, and a policy narrowed to this API would stop the others' logs.",
      });
    }
  }

  /** The API Gateway model of a schema of the document, made once per schema. */
  private requestModel({ name, schema }: SchemaRef): apigateway.Model {
    let model = this.models.get(name);
    if (!model) {
      model = this.restApi.addModel(`${name}Model`, {
        modelName: name,
        contentType: MODEL_CONTENT_TYPE,
        schema: requestModelSchema(name, schema),
      });
      this.models.set(name, model);
    }
    return model;
  }
}

function pascalCase(operationId: string): string {
  return operationId.charAt(0).toUpperCase() + operationId.slice(1);
}

/** One JSON line per request: who called what, the answer and how long it took. */
function accessLogFormat(): apigateway.AccessLogFormat {
  const field = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: field.contextRequestId(),
      requestTime: field.contextRequestTime(),
      sourceIp: field.contextIdentitySourceIp(),
      userAgent: field.contextIdentityUserAgent(),
      userId: field.contextAuthorizerClaims('sub'),
      httpMethod: field.contextHttpMethod(),
      resourcePath: field.contextResourcePath(),
      protocol: field.contextProtocol(),
      status: field.contextStatus(),
      errorType: field.contextErrorResponseType(),
      wafStatus: field.contextWafResponseCode(),
      responseLength: field.contextResponseLength(),
      responseLatency: field.contextResponseLatency(),
      integrationLatency: field.contextIntegrationLatency(),
      xrayTraceId: field.contextXrayTraceId(),
    }),
  );
}

/** Answers that API Gateway gives itself, before or instead of a handler, in the API's error shape. */
function addErrorResponses(restApi: apigateway.RestApi, webOrigins: readonly string[]): void {
  const responseHeaders = gatewayResponseHeaders(webOrigins);
  for (const response of GATEWAY_RESPONSES) {
    restApi.addGatewayResponse(response.id, {
      type: apigateway.ResponseType.of(response.type),
      statusCode: response.statusCode?.toString(),
      responseHeaders: { ...responseHeaders },
      templates: { 'application/json': gatewayResponseTemplate(response) },
    });
  }
}
