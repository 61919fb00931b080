import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientConfig } from './config';

/** The event bus client: every function publishes what it changed. */
export const eventBridgeClient = new EventBridgeClient(clientConfig());
