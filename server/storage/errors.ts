/**
 * Storage errors are values with a code; the HTTP layer maps the code to a status in one place.
 */
import { CodedError } from '../errors.ts'

export type StorageErrorCode =
  | 'invalid' // the caller passed something the store cannot accept (400)
  | 'bad_cursor' // a pagination cursor that this store did not issue (400)
  | 'not_found' // (404)
  | 'conflict' // an id that exists already (409)
  | 'schema_too_new' // the database was migrated by a newer linesight: refuse to touch it
  | 'migration_changed' // an applied migration's text differs from this build's
  | 'io' // a file of a stored image could not be written or removed
  | 'closed'

export class StorageError extends CodedError<StorageErrorCode> {
  override name = 'StorageError'
}

export function invalid(message: string): StorageError {
  return new StorageError('invalid', message)
}

/** The part of a pino logger the stores use; failures nobody awaits are reported here. */
export interface Logger {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export const consoleLogger: Logger = {
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
}
