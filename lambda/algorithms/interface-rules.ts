import { badRequest } from '../api/api-error';
import { checkNesting } from '../api/item-limits';
import { AlgorithmInterface, Socket, SocketKind } from './algorithm-record';
import { schemaProblem } from './socket-schemas';

/** File kinds keep a fixed extension, so the container finds `/input/<relativePath>` as expected. */
const EXTENSIONS: Readonly<Record<Exclude<SocketKind, 'image'>, readonly string[]>> = {
  json: ['.json'],
  csv: ['.csv'],
  zip: ['.zip'],
  pdf: ['.pdf'],
  png: ['.png'],
  jpeg: ['.jpg', '.jpeg'],
  txt: ['.txt'],
};

/** The contract reserves this input path for the list of all inputs. */
const RESERVED_INPUT_PATH = 'inputs.json';

/**
 * The rules of grand-challenge's interfaces that a schema cannot express: image sockets live
 * under `images/`, other kinds keep their extension, `inputs.json` is reserved, slugs and paths
 * are unique on each side, no two interfaces take the same set of inputs (a job's inputs must
 * match exactly one), and a json socket's schema compiles. Errors name the offending field.
 */
export function checkInterfaces(interfaces: readonly AlgorithmInterface[]): void {
  const inputSets = new Map<string, number>();
  interfaces.forEach((algorithmInterface, i) => {
    for (const side of ['inputs', 'outputs'] as const) {
      const slugs = new Set<string>();
      const paths = new Set<string>();
      algorithmInterface[side].forEach((socket, j) => {
        const where = `body.interfaces[${i}].${side}[${j}]`;
        checkSocket(socket, where, side);
        if (slugs.has(socket.slug))
          throw badRequest(`${where}.slug "${socket.slug}" appears twice in this interface`);
        if (paths.has(socket.relativePath)) {
          throw badRequest(`${where}.relativePath "${socket.relativePath}" appears twice in this interface`);
        }
        slugs.add(socket.slug);
        paths.add(socket.relativePath);
      });
    }
    const key = algorithmInterface.inputs
      .map((s) => s.slug)
      .sort()
      .join(',');
    const same = inputSets.get(key);
    if (same !== undefined) {
      throw badRequest(
        `body.interfaces[${i}] takes the same inputs as body.interfaces[${same}]; a job could not tell them apart`,
      );
    }
    inputSets.set(key, i);
  });
}

function checkSocket(socket: Socket, where: string, side: 'inputs' | 'outputs'): void {
  if (socket.kind === 'image') {
    if (!socket.relativePath.startsWith('images/')) {
      throw badRequest(`${where}.relativePath must start with "images/" for an image socket`);
    }
  } else {
    const extensions = EXTENSIONS[socket.kind];
    if (!extensions.some((ext) => socket.relativePath.endsWith(ext))) {
      throw badRequest(
        `${where}.relativePath must end with ${extensions.join(' or ')} for a ${socket.kind} socket`,
      );
    }
  }
  if (side === 'inputs' && socket.relativePath === RESERVED_INPUT_PATH) {
    throw badRequest(`${where}.relativePath "${RESERVED_INPUT_PATH}" is reserved for the list of inputs`);
  }
  if (socket.schema !== undefined && socket.kind !== 'json') {
    throw badRequest(`${where}.schema is only for json sockets`);
  }
  if (socket.schema === undefined) return;
  // Stored in the algorithm's item inside interfaces, an interface, its sockets and the socket.
  checkNesting(socket.schema, `${where}.schema`, 4);
  const problem = schemaProblem(socket.schema);
  if (problem) {
    throw badRequest(
      `${where}.schema of socket "${socket.slug}" is not a JSON Schema (draft-07) that can check values: ${problem}`,
    );
  }
}
