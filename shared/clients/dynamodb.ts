import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig } from './config';

/**
 * The DynamoDB clients, created once per execution environment and reused across invocations. Every
 * function uses them. Endpoints come from the SDK's standard configuration
 * (`AWS_ENDPOINT_URL_DYNAMODB`), which is how the local runtime points them at DynamoDB Local
 * without the code knowing. Each AWS client has a module of its own, so a bundle holds only the
 * clients its function uses.
 */
export const dynamoDbClient = new DynamoDBClient(clientConfig());

export const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
});
