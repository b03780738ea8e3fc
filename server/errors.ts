/**
 * A failure as a value with a code: callers branch on `code`, never on the message, and the HTTP
 * edge maps codes to statuses. The storage, queue, scaling and upload errors are all this class.
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * Errors are values with a status (hono's HTTPException). Route handlers throw or return them;
 * one place (server/gateway/http.ts) turns them into `{error: {code, message}}` replies.
 */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.headers = options?.headers ?? {}
  }
  readonly headers: Record<string, string>
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, code, message)
export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message)
