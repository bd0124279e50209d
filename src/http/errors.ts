import { RepayriskError } from '../core/errors.ts';
import type { FieldIssue } from '../core/schema/issues.ts';

/**
 * The HTTP edge of the error contract (STYLE §9): domain errors carry a code, this module maps them to statuses,
 * and anything unknown becomes an opaque 500 whose detail goes to the log only.
 */

/** The body of every error response. */
export interface ErrorBody {
  /** Stable machine-readable code (`invalid_request`, `invalid_json`, `unauthorized`, …; docs/api.md lists them). */
  error: string;
  message: string;
  /** The request id, also sent as the `x-request-id` response header. */
  request_id: string;
  /** Every failing field, when the body did not validate. */
  issues?: FieldIssue[];
}

/** An error the HTTP layer raises on purpose, with the status and code it answers with. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly issues: readonly FieldIssue[] | undefined;
  constructor(statusCode: number, code: string, message: string, issues?: readonly FieldIssue[]) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.issues = issues;
  }

  /** A 400 listing every failing field. */
  static invalid(issues: readonly FieldIssue[], what = 'the request body'): HttpError {
    const n = issues.length;
    return new HttpError(
      400,
      'invalid_request',
      `${what} has ${n} problem${n === 1 ? '' : 's'}: ${issues
        .slice(0, 3)
        .map((i) => i.path)
        .join(', ')}${n > 3 ? ', …' : ''}`,
      issues,
    );
  }
}

/** The ledger could not be read or written: nothing was acknowledged, the client may retry. */
export class LedgerUnavailableError extends HttpError {
  /** The store's own error, for the log only. */
  readonly detail: unknown;
  constructor(operation: string, detail: unknown) {
    super(
      503,
      'ledger_unavailable',
      `the ledger could not ${operation}; nothing was recorded or acknowledged, retry later`,
    );
    this.name = 'LedgerUnavailableError';
    this.detail = detail;
  }
}

/** What the app knows when it maps an error (for messages that name a limit). */
export interface ErrorContext {
  requestId: string;
  bodyLimitBytes: number;
  contentType: string | undefined;
}

/** How an error is answered: status and body, and whether its detail must be logged as a server fault. */
export interface MappedError {
  status: number;
  body: ErrorBody;
  /** True for 5xx answers whose cause is not the client's input. */
  serverFault: boolean;
}

const REPAYRISK_STATUS: Record<RepayriskError['code'], number> = {
  invalid_data: 400,
  invalid_argument: 400,
  missing_column: 400,
  refused: 409,
  io: 503,
};

const short = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Maps anything thrown while handling a request to its status and error body. */
export function mapError(err: unknown, ctx: ErrorContext): MappedError {
  const body = (error: string, message: string, issues?: readonly FieldIssue[]): ErrorBody => ({
    error,
    message,
    request_id: ctx.requestId,
    ...(issues?.length ? { issues: [...issues] } : {}),
  });
  if (err instanceof HttpError)
    return {
      status: err.statusCode,
      body: body(err.code, err.message, err.issues),
      serverFault: err.statusCode >= 500 && !(err instanceof LedgerUnavailableError),
    };
  if (err instanceof RepayriskError) {
    const status = REPAYRISK_STATUS[err.code];
    return { status, body: body(err.code, err.message), serverFault: status >= 500 };
  }
  const code = (err as { code?: unknown } | null)?.code;
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // The issue asks for 400 on oversized bodies (not 413): every input problem is a 400 with a code.
      return {
        status: 400,
        body: body(
          'body_too_large',
          `the request body is larger than the limit of ${ctx.bodyLimitBytes} bytes; split the batch`,
        ),
        serverFault: false,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: body(
          'unsupported_media_type',
          `send the body as application/json (got ${ctx.contentType ? JSON.stringify(short(ctx.contentType)) : 'no Content-Type'})`,
        ),
        serverFault: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: body('invalid_json', 'the body is empty; send a JSON object'),
        serverFault: false,
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: body('invalid_json', 'the body is not valid JSON'), serverFault: false };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        body: body('invalid_body', 'the body length does not match Content-Length'),
        serverFault: false,
      };
  }
  // Fastify's own client errors (bad URL, malformed headers …) keep their 4xx status.
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 && err instanceof Error)
    return { status: statusCode, body: body('bad_request', short(err.message, 200)), serverFault: false };
  return { status: 500, body: body('internal', internalMessage), serverFault: true };
}

const internalMessage = 'internal error; the request id identifies it in the service log';
