export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/**
 * The original's timestamp format: ISO-8601 with microseconds and a UTC offset
 * (`2024-09-18T18:13:22.552851+08:00`). `offsetMinutes` comes from config.
 * Built from the fields: a page of records formats tens of these, and `toISOString` plus
 * slicing costs three times as much. Years outside 1000-9999 take ISO's own (rare) form.
 */
export function formatTimestamp(date: Date, offsetMinutes: number): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  const year = shifted.getUTCFullYear();
  const base =
    year >= 1000 && year <= 9999
      ? `${year}-${twoDigits(shifted.getUTCMonth() + 1)}-${twoDigits(shifted.getUTCDate())}T${twoDigits(shifted.getUTCHours())}:` +
        `${twoDigits(shifted.getUTCMinutes())}:${twoDigits(shifted.getUTCSeconds())}.${threeDigits(shifted.getUTCMilliseconds())}`
      : shifted.toISOString().slice(0, -1);
  return `${base}000${offsetSuffix(offsetMinutes)}`;
}

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

function threeDigits(value: number): string {
  return value < 10 ? `00${value}` : value < 100 ? `0${value}` : `${value}`;
}

let lastOffset = Number.NaN;
let lastSuffix = "";
/** `+08:00` for 480; remembered, since a process formats with one offset. */
function offsetSuffix(offsetMinutes: number): string {
  if (offsetMinutes !== lastOffset) {
    const abs = Math.abs(offsetMinutes);
    lastSuffix = `${offsetMinutes < 0 ? "-" : "+"}${twoDigits(Math.floor(abs / 60))}:${twoDigits(abs % 60)}`;
    lastOffset = offsetMinutes;
  }
  return lastSuffix;
}
