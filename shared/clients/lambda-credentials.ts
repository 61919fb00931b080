/**
 * The credential provider of the AWS SDK clients in the function bundles, instead of the SDK's
 * default chain: `base-function.ts` has esbuild alias `@aws-sdk/credential-provider-node` to this
 * module, whose `defaultProvider` is the name the clients import from it.
 *
 * Lambda hands a function its role's credentials in the environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and so does the local runtime. The default chain
 * also carries the SSO, STS web identity, INI, process, container and instance metadata providers
 * with their own nested SDK clients (≈ 60 KB minified and their module init), none of which a
 * function can use. Code that runs outside a bundle (tests, scripts) keeps the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
