import * as z from 'zod';

/**
 * The fixed vocabulary of the service (severities, languages, channels): what the code itself knows,
 * apart from the policy document's schema (`schema.ts`), so a function's bundle can name a channel
 * without building the whole policy schema at its cold start.
 */

export const SEVERITIES = ['general', 'important', 'urgent', 'major'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const LANGUAGES = ['zh', 'en'] as const;
export const LanguageSchema = z.enum(LANGUAGES);
export type Language = z.infer<typeof LanguageSchema>;

export const CHANNELS = [
  'app',
  'web',
  'hotline',
  'social_media',
  'email',
  'app_store',
  'partner_service',
] as const;
export const ChannelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof ChannelSchema>;
