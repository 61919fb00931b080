import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Largest accepted request body; API Gateway allows more, a complaint never needs it. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface FieldError {
  field: string;
  reason: string;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
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
