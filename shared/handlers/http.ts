import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Largest accepted request body; API Gateway allows more, a complaint never needs it. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface FieldError {
  field: string;
  reason: string;
}

/**
 * Headers every response of the service carries: the content type is the truth (`nosniff`: a
 * browser never reads a JSON body as HTML or script), nothing is cached, and no page may frame it.
 */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/** A JSON response; nothing a caller sent can make it anything else (the content type is fixed). */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: {
      ...headers,
      ...SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      // A JSON answer needs no resources: refuse any if a browser renders it anyway.
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    },
    body: JSON.stringify(body),
  };
}

/** 400 with every field and the reason it was refused. */
export function badRequest(errors: FieldError[]): APIGatewayProxyStructuredResultV2 {
  return json(400, { error: 'ValidationError', message: 'The request is not valid', errors });
}

export type ParsedBody =
  | { ok: true; value: unknown }
  | { ok: false; response: APIGatewayProxyStructuredResultV2 };

/** Decodes and parses a JSON body, answering 413/415/400 for oversized, non-JSON or malformed bodies. */
export function parseJsonBody(event: APIGatewayProxyEventV2): ParsedBody {
  const contentType = event.headers?.['content-type'] ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    return {
      ok: false,
      response: json(415, { error: 'UnsupportedMediaType', message: 'Send the body as application/json' }),
    };
  }
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    return {
      ok: false,
      response: json(413, {
        error: 'PayloadTooLarge',
        message: `The body must be at most ${MAX_BODY_BYTES} bytes`,
      }),
    };
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, response: badRequest([{ field: '(body)', reason: 'is not valid JSON' }]) };
  }
}
