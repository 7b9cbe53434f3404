export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/**
 * The original's timestamp format: ISO-8601 with microseconds and a UTC offset
 * (`2024-09-18T18:13:22.552851+08:00`). `offsetMinutes` comes from config.
 */
export function formatTimestamp(date: Date, offsetMinutes: number): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  const base = shifted.toISOString().slice(0, 23); // yyyy-mm-ddThh:mm:ss.mmm
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${base}000${sign}${hh}:${mm}`;
}
