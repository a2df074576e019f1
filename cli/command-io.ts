/** What every command is handed to talk to the world: its streams, stdin, environment and the sources errors quote. */
export interface CommandIO {
  readonly stdout: (s: string | Uint8Array) => void;
  readonly stderr: (s: string) => void;
  readonly readStdin: () => Buffer;
  readonly env: NodeJS.ProcessEnv;
  /** Sources read so far, by the name errors use, so that errors can show the line. */
  readonly sources: Map<string, Buffer>;
  /** Where build progress goes (stderr). */
  readonly progressStream: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}
