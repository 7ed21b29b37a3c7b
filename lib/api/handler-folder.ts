/**
 * The folder under `lambda/` that holds an operation's handler: `createUpload` is deployed from
 * `lambda/create-upload/`. Local mode follows the same rule, so both run the same file.
 */
export function handlerFolder(operationId: string): string {
  return operationId.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
