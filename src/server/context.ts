/** What the route modules (routes/*.ts) share with the app: the served region and its cached answers, the store and logins. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutingContext } from '../access/context.js';
import type { StandardsProfile } from '../assess/standards.js';
import type { Snap } from '../engine/snap.js';
import type { Region } from '../region/region.js';
import type { Taxonomy } from '../taxonomy/formats.js';
import type { Auth } from './auth.js';
import type { EffectiveRegion } from './facility-edits.js';

export interface RateLimits {
  /** requests per minute per client address on every route without its own limit; null = none. */
  readsPerMinute: number | null;
  /**
   * basemap tile requests per minute per client address, counted apart from the reads: a map being
   * panned and zoomed asks for dozens of tiles a second, each one a cached, immutable answer.
   */
  tilesPerMinute: number | null;
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

/** What the read-only routes (access, map, heatmap) share with the app: the served region and its cached answers. */
export interface ReadRouteContext {
  /** the served region (base + facility edits); changes after edits, so ask each time. */
  region(): Region;
  taxonomy: Taxonomy;
  /** the routing context of a walking profile; 400 naming `profile` when unknown. */
  contextFor(profile: string): RoutingContext;
  /** a "lon,lat" query value checked and snapped: 400 if malformed or swapped, 404 off the region or network. */
  pointIn(ctx: RoutingContext, field: string, raw: string): { lon: number; lat: number; snap: Snap };
  /** 400 naming `format` when the taxonomy has no such format. */
  checkFormat(format: string): void;
  /** send the cached answer under key (per data version), or make it, cache it and send it (compressed as accepted). */
  sendCached(req: FastifyRequest, reply: FastifyReply, key: string, make: () => unknown): FastifyReply;
  standardsFor(id: string): StandardsProfile;
}
