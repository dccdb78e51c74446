import { parseWebrtcConfig, type WebrtcConfig } from '../core/links/link-protocol.ts'

/**
 * The node's WebRTC settings from the page URL, for operators and tests:
 * `?webrtc=off` disables direct links; `?ice=` takes JSON `{ iceServers, iceTransportPolicy }`
 * (STUN/TURN for real deployments; none by default, which is what loopback and LANs need);
 * `?webrtcTimeout=` bounds one link attempt in milliseconds. Invalid values throw a typed
 * `INVALID_ARGUMENT`.
 */
export function webrtcSettingsFromUrl (search: string): WebrtcConfig {
  const params = new URLSearchParams(search)
  const raw: Record<string, unknown> = {}
  const mode = params.get('webrtc')
  if (mode !== null) raw['enabled'] = mode !== 'off'
  const ice = params.get('ice')
  if (ice !== null) {
    try {
      raw['ice'] = JSON.parse(ice)
    } catch {
      raw['ice'] = ice
    }
  }
  const timeout = params.get('webrtcTimeout')
  if (timeout !== null) raw['connectTimeoutMs'] = Number(timeout)
  return parseWebrtcConfig(raw)
}
