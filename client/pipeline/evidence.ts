/**
 * The station's answer to the server's `evidence-request` (shared/protocol/messages/evidence.ts):
 * the camera original of a frame it sent at the model's size, encoded at full size from the
 * worker's ring (client/inference/evidence-ring.ts), or `evidence-missing` with why not.
 */
import type { EvidenceMissingMessage } from '../../shared/protocol/messages/evidence.ts'
import type { EncodedFrame, EncodeOptions, WorkerReply } from '../inference/api.ts'
import type { StationLink } from '../uplink/station-link.ts'

export interface EvidenceSource {
  evidence(frameId: string, options: Omit<EncodeOptions, 'fit'>): Promise<WorkerReply<EncodedFrame>>
}

export type EvidenceAnswer = 'sent' | EvidenceMissingMessage['reason']

export async function answerEvidence(frameId: string, worker: EvidenceSource, link: Pick<StationLink, 'sendEvidence' | 'sendMessage'>, options: Omit<EncodeOptions, 'fit'>): Promise<EvidenceAnswer> {
  const encoded = await worker.evidence(frameId, options)
  let answer: EvidenceAnswer
  if (!encoded.ok) answer = encoded.error.code === 'gone' ? 'gone' : 'encode_failed'
  else {
    const e = encoded.value
    // the server has the frame's capture time; this one only has to be a time
    const sent = link.sendEvidence({ frameId, capturedAt: Date.now(), mime: e.mime, width: e.width, height: e.height, bytes: e.bytes })
    answer = sent ? 'sent' : 'too_large'
  }
  if (answer !== 'sent') link.sendMessage({ type: 'evidence-missing', frameId, reason: answer })
  return answer
}
