import { createVerify, KeyObject } from 'node:crypto';
import * as net from 'node:net';

/**
 * CloudFront's check of a signed URL or signed cookies, as its documentation describes it:
 * canned policy (Expires) or custom policy (Policy), RSA signature with SHA-1 or SHA-256 over the
 * policy, the public key named by Key-Pair-Id from the trusted key group, then the policy's
 * resource, time window and source IP.
 */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export interface SignedRequest {
  /** The URL as the viewer requested it, origin included, e.g. `https://d1.cloudfront.net/a/b?x=1&Signature=...`. */
  readonly url: string;
  /** Cookie header, if any. */
  readonly cookieHeader?: string;
  readonly sourceIp: string;
  /** Seconds since the epoch. */
  readonly now: number;
}

const URL_PARAMS = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'] as const;
type SigningValues = Partial<Record<(typeof URL_PARAMS)[number], string>>;

interface PolicyStatement {
  Resource?: string;
  Condition?: {
    DateLessThan?: { 'AWS:EpochTime'?: number };
    DateGreaterThan?: { 'AWS:EpochTime'?: number };
    IpAddress?: { 'AWS:SourceIp'?: string };
  };
}

export function verifySignedRequest(
  request: SignedRequest,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Verdict {
  const url = new URL(request.url);
  const fromQuery: SigningValues = {};
  for (const name of URL_PARAMS) {
    const value = url.searchParams.get(name);
    if (value !== null) fromQuery[name] = value;
  }
  // CloudFront reads the query string when it carries signing parameters, cookies otherwise.
  const values = Object.keys(fromQuery).length > 0 ? fromQuery : fromCookies(request.cookieHeader);
  const resourceUrl = unsignedUrl(request.url);

  const keyPairId = values['Key-Pair-Id'];
  if (!keyPairId) return deny('Missing Key-Pair-Id query parameter or cookie value');
  const publicKey = trustedKeys.get(keyPairId);
  if (!publicKey) return deny(`Key-Pair-Id ${keyPairId} is not in the trusted key group`);
  if (!values.Signature) return deny('Missing Signature query parameter or cookie value');
  const hash = values['Hash-Algorithm'] ?? 'SHA1';
  if (hash !== 'SHA1' && hash !== 'SHA256') return deny(`Unsupported Hash-Algorithm ${hash}`);

  let policyText: string;
  if (values.Policy !== undefined) {
    policyText = fromCloudFrontBase64(values.Policy).toString('utf8');
  } else if (values.Expires !== undefined) {
    if (!/^\d+$/.test(values.Expires)) return deny('Expires must be whole seconds since the epoch');
    policyText = cannedPolicy(resourceUrl, Number(values.Expires));
  } else {
    return deny('Missing Expires or Policy query parameter or cookie value');
  }

  const verifier = createVerify(hash === 'SHA256' ? 'RSA-SHA256' : 'RSA-SHA1');
  verifier.update(policyText);
  if (!verifier.verify(publicKey, fromCloudFrontBase64(values.Signature))) {
    return deny('Signature does not match the policy');
  }

  let statement: PolicyStatement;
  try {
    const policy = JSON.parse(policyText) as { Statement?: PolicyStatement[] };
    if (!Array.isArray(policy.Statement) || policy.Statement.length !== 1) {
      return deny('Policy must hold exactly one statement');
    }
    statement = policy.Statement[0];
  } catch {
    return deny('Policy is not valid JSON');
  }
  return checkStatement(statement, resourceUrl, request);
}

function checkStatement(statement: PolicyStatement, resourceUrl: string, request: SignedRequest): Verdict {
  if (statement.Resource !== undefined && !wildcardMatch(statement.Resource, resourceUrl)) {
    return deny('Policy resource does not match the requested URL');
  }
  const lessThan = statement.Condition?.DateLessThan?.['AWS:EpochTime'];
  if (typeof lessThan !== 'number') return deny('Policy has no DateLessThan');
  if (request.now >= lessThan) return deny('Request has expired');
  const greaterThan = statement.Condition?.DateGreaterThan?.['AWS:EpochTime'];
  if (typeof greaterThan === 'number' && request.now <= greaterThan) return deny('Request is not yet valid');
  const cidr = statement.Condition?.IpAddress?.['AWS:SourceIp'];
  if (cidr !== undefined && !ipInCidr(request.sourceIp, cidr))
    return deny('Source IP is not allowed by the policy');
  return { allowed: true };
}

/** The canned policy, byte for byte as CloudFront rebuilds it from a URL and its Expires. */
export function cannedPolicy(resourceUrl: string, expires: number): string {
  return `{"Statement":[{"Resource":"${resourceUrl}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
}

/** The requested URL without CloudFront's signing parameters; other parameters keep their order. */
export function unsignedUrl(requestUrl: string): string {
  const queryStart = requestUrl.indexOf('?');
  if (queryStart === -1) return requestUrl;
  const kept = requestUrl
    .slice(queryStart + 1)
    .split('&')
    .filter(
      (pair) =>
        pair !== '' && !(URL_PARAMS as readonly string[]).includes(decodeURIComponent(pair.split('=')[0])),
    );
  return kept.length > 0
    ? `${requestUrl.slice(0, queryStart)}?${kept.join('&')}`
    : requestUrl.slice(0, queryStart);
}

function fromCookies(header: string | undefined): SigningValues {
  const values: SigningValues = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const param = name.startsWith('CloudFront-') ? name.slice('CloudFront-'.length) : '';
    if ((URL_PARAMS as readonly string[]).includes(param)) {
      values[param as keyof SigningValues] = part.slice(eq + 1).trim();
    }
  }
  return values;
}

/** CloudFront's URL-safe base64: `-` for `+`, `_` for `=`, `~` for `/`. */
function fromCloudFrontBase64(value: string): Buffer {
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
}

/** `*` matches any run of characters, `?` exactly one; everything else literally. */
function wildcardMatch(pattern: string, value: string): boolean {
  const regex = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`, 's').test(value);
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [range, bits = '32'] = cidr.split('/');
  const list = new net.BlockList();
  try {
    list.addSubnet(range, Number(bits), 'ipv4');
  } catch {
    return false;
  }
  const address = ip.replace(/^::ffff:/, '');
  return net.isIPv4(address) && list.check(address, 'ipv4');
}

function deny(reason: string): Verdict {
  return { allowed: false, reason };
}
