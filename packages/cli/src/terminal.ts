/** Whether a UTF-16 code unit is a control character a terminal would act on (tab and newline are kept). */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
}

/**
 * Text safe to print: control characters (C0 but tab and newline, DEL, C1), which input files can
 * carry into labels and error snippets and which a terminal would obey (ESC sequences, carriage
 * returns that overwrite a line), are written as `\u00XX` escapes, which are also valid inside
 * JSON strings.
 */
export function terminalSafe(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code)) continue;
    out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}
