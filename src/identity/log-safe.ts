/**
 * A value that came from a caller, made safe to put in a log line: cut to a short prefix and with
 * every character outside printable ASCII escaped, so a hostile header cannot flood or forge logs.
 */
export function forLog(value: unknown, maxChars = 64): string {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}...(${text.length} chars)` : text;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
