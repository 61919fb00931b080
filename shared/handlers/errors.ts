/** Error name and message only: stack traces and causes may quote customer text. */
export function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Unknown', message: String(error) };
}
