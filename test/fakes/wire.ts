// Response encodings of the protocols the fake speaks. Shapes follow the
// AWS SDK for JS v3 deserializers and the AWS API references.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** An error the fake answers with, in the protocol of the route that raised it. */
export class AwsError extends Error {
  status: number;
  code: string;
  /** For SSO-OIDC errors: the OAuth `error` field (`authorization_pending`, ...). */
  oauthError: string | undefined;
  constructor(status: number, code: string, message: string, oauthError?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.oauthError = oauthError;
  }
}

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A value tree rendered as XML elements: objects nest, arrays become `<member>` lists. */
export type XmlValue =
  string | number | boolean | undefined | XmlValue[] | { [k: string]: XmlValue };

export function toXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return xmlEscape(String(value));
}

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** `<ActionResponse xmlns><ActionResult>...</ActionResult><ResponseMetadata>` */
export function sendQueryResult(
  res: ServerResponse,
  action: string,
  xmlns: string,
  result: XmlValue | undefined,
): void {
  const requestId = randomUUID();
  const resultXml =
    result === undefined ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  const body =
    `<${action}Response xmlns="${xmlns}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`;
  res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(body);
}

/** The query protocol's error document (STS, IAM). */
export function sendQueryError(res: ServerResponse, err: AwsError): void {
  const requestId = randomUUID();
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    `<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>${type}</Type>` +
    `<Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>\n`;
  res.writeHead(err.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(value));
}

/**
 * REST-JSON errors: the type travels in `x-amzn-ErrorType`; SSO-OIDC puts the
 * OAuth `error` / `error_description` in the body, the SSO portal a `message`.
 */
export function sendRestJsonError(res: ServerResponse, err: AwsError): void {
  const body =
    err.oauthError !== undefined
      ? { error: err.oauthError, error_description: err.message }
      : { message: err.message };
  res.writeHead(err.status, {
    'content-type': 'application/json',
    'x-amzn-errortype': err.code,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify(body));
}

/** ISO 8601 UTC without milliseconds, as STS writes expirations. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
