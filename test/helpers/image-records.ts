import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';

/**
 * Puts an image record straight into the images table, as the API or the converter would leave
 * it, so that a test starts from a state no request made: `fields` (given the new id, when they
 * name keys after it) say what differs from a new, queued image. Resolves with its id.
 */
export async function putImageRecord(
  documents: DynamoDBDocumentClient,
  imagesTable: string,
  fields: (id: string) => { readonly owner: string } & Record<string, unknown>,
): Promise<string> {
  const id = randomUUID();
  const now = new Date().toISOString();
  await documents.send(
    new PutCommand({
      TableName: imagesTable,
      Item: {
        id,
        name: 'ct.mha',
        status: 'Queued',
        statusDetail: 'Waiting for the converter to pick up the image',
        errors: [],
        metadata: {},
        createdAt: now,
        updatedAt: now,
        ...fields(id),
      },
    }),
  );
  return id;
}
