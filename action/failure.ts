/**
 * The error annotation of a failed build: the failed step and its error when a step failed,
 * else the CLI's own error; when the CLI's error points at a Dockerfile line
 * (`error: FILE:LINE:COL: message`), the annotation points there too.
 */
import { isAbsolute, relative } from 'node:path';
import type { LogResult } from './log.js';
import { errorCommand, type AnnotationProperties } from './workflow.js';

const TITLE = 'tsbuild: the build failed';

/** `::error …::` for a build that exited with a failure; `workspace` makes Dockerfile paths the repository's. */
export function failureAnnotation(result: Pick<LogResult, 'failed' | 'text'>, workspace: string | undefined): string {
  const first = result.text.find((l) => l.startsWith('error: '));
  const cliMessage = first?.slice('error: '.length);
  const at = cliMessage === undefined ? null : /^(.+?):(\d+):(\d+): (.*)$/.exec(cliMessage);
  let props: AnnotationProperties = { title: TITLE };
  let message = cliMessage ?? result.text[0] ?? 'tsbuild failed and said nothing';
  if (at !== null) {
    const [, file, line, col, text] = at as unknown as [string, string, string, string, string];
    const inRepo = workspace !== undefined && isAbsolute(file) && !relative(workspace, file).startsWith('..') ? relative(workspace, file) : file;
    props = { ...props, file: inRepo, line: Number(line), col: Number(col) };
    message = text;
  }
  const step = result.failed[result.failed.length - 1];
  if (step !== undefined) message = `${step.name}: ${step.error}`;
  return errorCommand(message, props);
}
