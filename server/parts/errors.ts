/** Why a part request was refused, as coded values; server/api/statuses.ts maps codes to statuses. */
import { CodedError } from '../errors.ts'

export type PartErrorCode =
  | 'bad_part' // not a part id, or the line or station is not an id (400)
  | 'not_trigger_mode' // the station does not take triggers (409)
  | 'station_offline' // no station of that id is connected to this gateway (409)
  | 'not_found' // (404)

export class PartError extends CodedError<PartErrorCode> {
  override name = 'PartError'
}
