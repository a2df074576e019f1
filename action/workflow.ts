/**
 * Workflow commands as the runner reads them from a step's output: `::add-mask::`, `::group::` /
 * `::endgroup::`, `::error …::` and `::warning …::`. Text only; the entry point prints it.
 */

/** A command's data, escaped as the runner reads it back (`%`, CR and LF). */
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** A property's value: the data's escapes, and `:` and `,`, which end a value. */
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** Where an annotation points: a file of the repository, a line and column there, a title. */
export interface AnnotationProperties {
  readonly title?: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

function command(name: string, props: AnnotationProperties, message: string): string {
  const fields = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `::${name}${fields.length === 0 ? '' : ` ${fields.join(',')}`}::${escapeData(message)}\n`;
}

/** An error annotation: the runner shows it on the run's page and in the log. */
export const errorCommand = (message: string, props: AnnotationProperties = {}) => command('error', props, message);

export const warningCommand = (message: string, props: AnnotationProperties = {}) => command('warning', props, message);

/** The start of a foldable group; groups do not nest, so one ends before the next starts. */
export const groupCommand = (title: string) => `::group::${escapeData(title)}\n`;

export const endGroupCommand = () => '::endgroup::\n';

/** One `::add-mask::` for a value. */
export const maskCommand = (value: string) => `::add-mask::${escapeData(value)}\n`;

/**
 * Text shown as it is, however it reads: the runner takes no command from the lines between
 * `::stop-commands::TOKEN` and `::TOKEN::` (a token of this call's own, so the text cannot end it).
 */
export function verbatim(text: string, token: string): string {
  if (text.includes(token)) throw new Error('the stop-commands token occurs in the text');
  return `::stop-commands::${token}\n${text.endsWith('\n') ? text : `${text}\n`}::${token}::\n`;
}
