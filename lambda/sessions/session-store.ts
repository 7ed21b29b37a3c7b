import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';
import { isLive, KEEP_ALIVE_SECONDS, SessionRecord, SessionStatus } from './session-record';
import { extendSessionSlots, releaseSessionSlots } from './session-slots';

export async function putSession(session: SessionRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('sessions'),
      Item: session,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** The session if `userId` owns it; anyone else gets the 404 of a session that does not exist. */
export async function getOwnSession(id: string, userId: string): Promise<SessionRecord> {
  // A record past its purge time may linger until DynamoDB deletes it; it is gone all the same.
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('sessions'), Key: { id }, ConsistentRead: true }),
  );
  if (!Item || Item.owner !== userId || Item.purgeAt <= Date.now() / 1000) throw notFound(`session ${id}`);
  return Item as SessionRecord;
}

export interface Extension {
  /** Running once the viewer reported its reader connected; otherwise the status stays. */
  readonly status?: Extract<SessionStatus, 'Running'>;
}

/**
 * Extends a live session of `userId` to min(now + KEEP_ALIVE_SECONDS, its cap), never shortening
 * it: first its slots (which proves no other session took them), then the session, each with a
 * conditional write. A session that has stopped, failed or expired is refused with 409, and any
 * slot it still held is freed. Returns the session as written.
 */
export async function extendSession(
  session: SessionRecord,
  userId: string,
  now: number,
  extension: Extension = {},
): Promise<SessionRecord> {
  if (!isLive(session, now)) throw ended(session.id);
  const expiresAt = Math.max(session.expiresAt, Math.min(now + KEEP_ALIVE_SECONDS, session.maxExpiresAt));
  if (!(await extendSessionSlots(session.id, session.slots, expiresAt, now))) {
    await releaseSessionSlots(session.id, session.slots);
    throw ended(session.id);
  }
  const updatedAt = new Date(now * 1000).toISOString();
  const status = extension.status ?? session.status;
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('sessions'),
        Key: { id: session.id },
        // A reason said why it was queued; once it runs there is none.
        UpdateExpression:
          'SET expiresAt = :expiresAt, #status = :status, updatedAt = :updatedAt' +
          (status === 'Running' ? ' REMOVE statusReason' : ''),
        ConditionExpression:
          '#owner = :owner AND #status IN (:queued, :started, :running) AND expiresAt > :now AND expiresAt <= :expiresAt',
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: {
          ':owner': userId,
          ':queued': 'Queued',
          ':started': 'Started',
          ':running': 'Running',
          ':now': now,
          ':expiresAt': expiresAt,
          ':status': status,
          ':updatedAt': updatedAt,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as SessionRecord;
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    // Stopped or failed meanwhile (or extended further by a concurrent call): read it again.
    const current = await getOwnSession(session.id, userId);
    if (isLive(current, now)) return current;
    await releaseSessionSlots(session.id, session.slots);
    throw ended(session.id);
  }
}

/**
 * Ends a session of `userId` as `status` (Stopped by its owner, Failed as its viewer reported),
 * then frees its slots. Ending one that has already ended changes nothing; a Failed is recorded
 * only over a session that was not stopped, so a late report does not rewrite the end.
 */
export async function endSession(
  session: SessionRecord,
  userId: string,
  now: number,
  status: Extract<SessionStatus, 'Stopped' | 'Failed'>,
  reason?: string,
): Promise<SessionRecord> {
  let result: SessionRecord;
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('sessions'),
        Key: { id: session.id },
        UpdateExpression:
          'SET #status = :status, updatedAt = :updatedAt, expiresAt = :end' +
          (reason ? ', statusReason = :reason' : ' REMOVE statusReason'),
        ConditionExpression:
          '#owner = :owner AND #status IN (:queued, :started, :running) AND expiresAt > :now',
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: {
          ':owner': userId,
          ':queued': 'Queued',
          ':started': 'Started',
          ':running': 'Running',
          ':now': now,
          ':status': status,
          ':updatedAt': new Date(now * 1000).toISOString(),
          ':end': now,
          ...(reason && { ':reason': reason }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    result = Attributes as SessionRecord;
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    result = await getOwnSession(session.id, userId);
  }
  await releaseSessionSlots(session.id, session.slots);
  return result;
}

const ended = (id: string) =>
  conflict(`session ${id} has ended (stopped, failed or expired): start a new session`);
