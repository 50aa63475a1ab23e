/** What the store-backed routes share with the app: the store and logins, the regions, and the loaded data. */
import type { StandardsProfile } from '../assess/standards.js';
import type { Region } from '../region/region.js';
import type { Taxonomy } from '../taxonomy/formats.js';
import type { Auth } from './auth.js';
import type { EffectiveRegion } from './facility-edits.js';

export interface RateLimits {
  /** requests per minute per client address on every route without its own limit; null = none. */
  readsPerMinute: number | null;
  loginsPerMinute: number | null;
  /** survey answers per hour per (hashed) client; null = none. */
  surveysPerHour: number | null;
}

export interface StoreRouteContext {
  auth: Auth;
  /** the imported region, without facility edits. */
  base: Region;
  /** the served region (base + facility edits) with the refs of its facilities. */
  effective(): EffectiveRegion;
  /** serve another effective region from now on (drops every cache). */
  setEffective(next: EffectiveRegion): void;
  taxonomy: Taxonomy;
  /** a bundled standards profile by id; 400 naming `profile` when unknown. */
  standardsFor(id: string): StandardsProfile;
  limits: RateLimits;
}
