/** Below this charge, on battery, the contributor's node pauses (the device's owner comes first). */
const LOW_BATTERY = 0.2

interface BatteryManager extends EventTarget { charging: boolean, level: number }

/**
 * Calls `onChange(low)` with whether the device runs on a low battery, now and on every
 * change. Browsers without the Battery Status API (Firefox, Safari) never report low.
 */
export function watchBattery (onChange: (low: boolean) => void): void {
  const get = (navigator as Navigator & { getBattery?: () => Promise<BatteryManager> }).getBattery
  if (typeof get !== 'function') return
  get.call(navigator).then((battery) => {
    const check = (): void => { onChange(!battery.charging && battery.level < LOW_BATTERY) }
    battery.addEventListener('chargingchange', check)
    battery.addEventListener('levelchange', check)
    check()
  }).catch(() => {})
}
