/** The error body every service answers with, over HTTP and over NATS alike. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** Seconds before a retry may succeed (429, 503); becomes a Retry-After header at the edge. */
  retryAfter?: number;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return typeof v['statusCode'] === 'number' && typeof v['message'] === 'string';
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(statusCode: number): string {
  return reasons[statusCode] ?? 'Error';
}

export function errorBody(statusCode: number, message: string, retryAfter?: number): ErrorBody {
  const body: ErrorBody = { statusCode, error: reasonPhrase(statusCode), message };
  if (retryAfter !== undefined) {
    body.retryAfter = retryAfter;
  }
  return body;
}
