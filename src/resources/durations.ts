/** Seconds of an `interval`: a number, an ISO 8601 duration (`PT1H`, `P1DT2H`), or `[D day[s], ]HH:MM:SS[.f]`, as pydantic reads a timedelta. */
export function intervalSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^[-+]?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const iso =
    /^([-+]?)P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
  if (iso && /\d/.test(text)) {
    // Groups that did not take part are undefined, whatever RegExpMatchArray's type says.
    const [, sign, w, d, h, m, s] = iso.map((x: string | undefined) => x ?? '');
    const total = Number(w || 0) * 604800 + Number(d || 0) * 86400 + Number(h || 0) * 3600 + Number(m || 0) * 60 + Number(s || 0);
    return sign === '-' ? -total : total;
  }
  const clock = /^(?:(-?\d+) days?,? )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text);
  if (clock) return Number(clock[1] ?? 0) * 86400 + Number(clock[2]) * 3600 + Number(clock[3]) * 60 + Number(clock[4]);
  return undefined;
}
