/**
 * `Objects/Lines/<line>/Stations/<station>/` with LastVerdict, LastPartId, PartsInspected,
 * PartsFailed, Yield, Online, Mode and a `Trigger(partId)` method, created when a station is first
 * seen. Node ids are readable strings in linesight's namespace:
 * `ns=1;s=Lines/<line>/Stations/<station>/<Name>`.
 */
import { DataType, StatusCodes, Variant, type AddressSpace, type Namespace, type UAObject, type UAVariable, type ISessionContext } from 'node-opcua'
import { PartId } from '../../../shared/domain/part.ts'
import { canUseLine, type Principal } from '../../auth/principal.ts'
import type { PartTrigger } from '../../parts/contract.ts'
import type { StationState } from '../types.ts'

interface StationNodes {
  lastVerdict: UAVariable
  lastPartId: UAVariable
  partsInspected: UAVariable
  partsFailed: UAVariable
  yield: UAVariable
  online: UAVariable
  mode: UAVariable
}

export interface LinesFolderDeps {
  principalOf(session: object | undefined): Principal | undefined
  trigger?: PartTrigger
}

export class LinesFolder {
  readonly #ns: Namespace
  readonly #root: UAObject
  /** line -> its Stations folder */
  readonly #lines = new Map<string, UAObject>()
  readonly #stations = new Map<string, StationNodes>()

  constructor(
    addressSpace: AddressSpace,
    private readonly deps: LinesFolderDeps,
  ) {
    this.#ns = addressSpace.getOwnNamespace()
    this.#root = this.#ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Lines', nodeId: 's=Lines' })
  }

  update(s: StationState): void {
    const n = this.#station(s.line, s.station)
    const set = (v: UAVariable, dataType: DataType, value: unknown) => v.setValueFromSource(new Variant({ dataType, value }))
    set(n.lastVerdict, DataType.String, s.lastVerdict ?? '')
    set(n.lastPartId, DataType.String, s.lastPartId ?? '')
    set(n.partsInspected, DataType.UInt32, s.partsInspected)
    set(n.partsFailed, DataType.UInt32, s.partsFailed)
    // 1 until a part fails: a station that has failed nothing has lost no yield
    set(n.yield, DataType.Double, s.partsInspected ? (s.partsInspected - s.partsFailed) / s.partsInspected : 1)
    set(n.online, DataType.Boolean, s.online)
    set(n.mode, DataType.String, s.mode)
  }

  #station(line: string, station: string): StationNodes {
    const key = `${line}/${station}`
    const known = this.#stations.get(key)
    if (known) return known
    let stations = this.#lines.get(line)
    if (!stations) {
      const lineNode = this.#ns.addFolder(this.#root, { browseName: line, nodeId: `s=Lines/${line}` })
      stations = this.#ns.addFolder(lineNode, { browseName: 'Stations', nodeId: `s=Lines/${line}/Stations` })
      this.#lines.set(line, stations)
    }
    const obj = this.#ns.addObject({ organizedBy: stations, browseName: station, nodeId: `s=Lines/${line}/Stations/${station}` })
    const base = `Lines/${line}/Stations/${station}`
    const variable = (name: string, dataType: string, value: Variant) =>
      this.#ns.addVariable({ componentOf: obj, browseName: name, nodeId: `s=${base}/${name}`, dataType, value })
    const nodes: StationNodes = {
      lastVerdict: variable('LastVerdict', 'String', new Variant({ dataType: DataType.String, value: '' })),
      lastPartId: variable('LastPartId', 'String', new Variant({ dataType: DataType.String, value: '' })),
      partsInspected: variable('PartsInspected', 'UInt32', new Variant({ dataType: DataType.UInt32, value: 0 })),
      partsFailed: variable('PartsFailed', 'UInt32', new Variant({ dataType: DataType.UInt32, value: 0 })),
      yield: variable('Yield', 'Double', new Variant({ dataType: DataType.Double, value: 1 })),
      online: variable('Online', 'Boolean', new Variant({ dataType: DataType.Boolean, value: false })),
      mode: variable('Mode', 'String', new Variant({ dataType: DataType.String, value: 'continuous' })),
    }
    const method = this.#ns.addMethod(obj, {
      browseName: 'Trigger',
      nodeId: `s=${base}/Trigger`,
      inputArguments: [{ name: 'partId', description: { text: 'the part id from the PLC; empty: a barcode read or the station sequence' }, dataType: DataType.String }],
      outputArguments: [{ name: 'partId', description: { text: 'the id the part will carry' }, dataType: DataType.String }],
    })
    method.bindMethod(async (inputArguments: Variant[], context: ISessionContext) => {
      const principal = this.deps.principalOf(context.session)
      if (!principal || !(principal.role === 'admin' || (principal.role === 'station' && canUseLine(principal, line)))) return { statusCode: StatusCodes.BadUserAccessDenied }
      const trigger = this.deps.trigger
      if (!trigger) return { statusCode: StatusCodes.BadNotImplemented }
      const raw = inputArguments[0]?.value as unknown
      const partId = typeof raw === 'string' && raw !== '' ? raw : undefined
      if (partId !== undefined && !PartId.safeParse(partId).success) return { statusCode: StatusCodes.BadInvalidArgument }
      try {
        const r = await trigger.trigger({ line, station, ...(partId !== undefined ? { partId } : {}), via: 'opcua' })
        return { statusCode: StatusCodes.Good, outputArguments: [new Variant({ dataType: DataType.String, value: r.partId })] }
      } catch {
        return { statusCode: StatusCodes.BadInvalidState }
      }
    })
    this.#stations.set(key, nodes)
    return nodes
  }
}

