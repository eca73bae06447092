/**
 * How a value from an event or from the server is written into a message or a log line: as
 * text that cannot forge a line. Pure; not part of the package's exports.
 */

/** `text` with control characters (newlines included) written as JSON escapes. */
export function controlsEscaped(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what is escaped
    /[\u0000-\u001f\u007f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * `text` as a JSON string, every control and line-separator character escaped: how a value
 * from an event or the server is written into a message or a log line, where it cannot forge
 * a line.
 */
export function quotedForLog(text: string): string {
  return controlsEscaped(JSON.stringify(text));
}
