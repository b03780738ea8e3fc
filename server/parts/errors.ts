/** Why a part request was refused, as coded values; server/api/parts.ts maps codes to statuses. */
export type PartErrorCode =
  | 'bad_part' // not a part id, or the line or station is not an id (400)
  | 'not_trigger_mode' // the station does not take triggers (409)
  | 'station_offline' // no station of that id is connected to this gateway (409)
  | 'not_found' // (404)

export class PartError extends Error {
  override name = 'PartError'
  constructor(
    readonly code: PartErrorCode,
    message: string,
  ) {
    super(message)
  }
}
