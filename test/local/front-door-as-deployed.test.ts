import { Template } from 'aws-cdk-lib/assertions';
import { GatewayResponseType } from '../../lambda/contracts/gateway-responses';
import { requestModels, requestParameters } from '../../lambda/contracts/method-request';
import { API_OPERATIONS } from '../../lambda/deployments';
import { defaultPlatformConfig } from '../../lib/config/platform-config';
import { GatewayError, renderGatewayResponse } from '../../local/services/gateway-responses';
import { synthPlatform } from '../helpers/synth-platform';

/** The status API Gateway gives each response type when its gateway response sets none (AWS's table). */
const AWS_DEFAULT_STATUS: Partial<Record<string, number>> = {
  UNAUTHORIZED: 401,
  ACCESS_DENIED: 403,
  BAD_REQUEST_BODY: 400,
  BAD_REQUEST_PARAMETERS: 400,
  REQUEST_TOO_LARGE: 413,
  THROTTLED: 429,
  WAF_FILTERED: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  INTEGRATION_TIMEOUT: 504,
};

interface SynthesizedResponse {
  readonly ResponseType: string;
  readonly StatusCode?: string;
  readonly ResponseParameters: Record<string, string>;
  readonly ResponseTemplates: Record<string, string>;
}

const requestHeaders = { Origin: 'http://127.0.0.1:4000' };
const message = 'API Gateway\'s "message"';

/** What API Gateway answers for a synthesized gateway response: its status, headers and body. */
function asApiGatewayRenders(response: SynthesizedResponse, status: number) {
  const headers: Record<string, string> = {};
  for (const [key, expression] of Object.entries(response.ResponseParameters)) {
    const name = key.replace(/^gatewayresponse\.header\./, '').toLowerCase();
    const literal = expression.match(/^'(.*)'$/);
    if (literal) headers[name] = literal[1];
    else if (expression === 'method.request.header.origin') headers[name] = requestHeaders.Origin;
    else throw new Error(`no rendering for ${expression}`);
  }
  const body = response.ResponseTemplates['application/json'].replace(
    '$context.error.messageString',
    JSON.stringify(message),
  );
  return { status: response.StatusCode ? Number(response.StatusCode) : status, headers, body };
}

let template: Template;

beforeAll(() => {
  template = Template.fromStack(synthPlatform().platform.api);
});

describe('the front door checks requests against the method requests the stack synthesizes', () => {
  test('each operation: the same parameters, required alike, and its body against the same model by content type', () => {
    type Resource = { Type: string; Properties: Record<string, unknown> };
    const resources = template.toJSON().Resources as Record<string, Resource>;
    for (const operation of API_OPERATIONS) {
      const [method] = Object.values(resources).filter(
        (r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.OperationName === operation.operationId,
      );
      const models = Object.fromEntries(
        Object.entries((method.Properties.RequestModels ?? {}) as Record<string, { Ref: string }>).map(
          ([contentType, { Ref }]) => [contentType, resources[Ref].Properties.Schema],
        ),
      );
      expect([operation.operationId, requestModels(operation)]).toEqual([operation.operationId, models]);
      expect([operation.operationId, requestParameters(operation)]).toEqual([
        operation.operationId,
        method.Properties.RequestParameters ?? {},
      ]);
    }
  });
});

describe("the front door renders API Gateway's own errors as the synthesized gateway responses do", () => {
  let responses: SynthesizedResponse[];
  const synthesized = (type: string) => responses.find((r) => r.ResponseType === type)!;

  beforeAll(() => {
    responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map(
      (r) => r.Properties as SynthesizedResponse,
    );
  });

  test('each response the stack sets, status, headers and body alike', () => {
    expect(responses.length).toBeGreaterThan(5);
    for (const response of responses) {
      const type = response.ResponseType as GatewayResponseType;
      // The two defaults stand in for any status of their class.
      const status = AWS_DEFAULT_STATUS[type] ?? (type === 'DEFAULT_5XX' ? 502 : 400);
      const local = renderGatewayResponse(
        new GatewayError(type, message, AWS_DEFAULT_STATUS[type] ? undefined : status),
        requestHeaders,
        defaultPlatformConfig.webOrigins,
      );
      expect([type, local]).toEqual([type, asApiGatewayRenders(response, status)]);
    }
  });

  test('a type the stack sets no response for takes the default of its class, with its own status', () => {
    const local = renderGatewayResponse(
      new GatewayError('INTEGRATION_TIMEOUT', message),
      requestHeaders,
      defaultPlatformConfig.webOrigins,
    );
    expect(responses.map((r) => r.ResponseType)).not.toContain('INTEGRATION_TIMEOUT');
    expect(local).toEqual(asApiGatewayRenders(synthesized('DEFAULT_5XX'), 504));
  });
});
