/**
 * A tiny history router: three paths, no nesting. The server answers every one of them with
 * index.html, so deep links and reloads work.
 */
import { computed, ref } from 'vue';

export type RouteName = 'planner' | 'resident' | 'not-found';

const ROUTES: Readonly<Record<string, RouteName>> = { '/': 'planner', '/planner': 'planner', '/resident': 'resident' };

const normalise = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path) || '/';

export const currentPath = ref(normalise(window.location.pathname));
export const currentRoute = computed<RouteName>(() => ROUTES[currentPath.value] ?? 'not-found');

export function navigate(path: string): void {
  const next = normalise(path);
  if (next === currentPath.value) return;
  window.history.pushState(null, '', next);
  currentPath.value = next;
}

/** Click handler for in-app links: plain left clicks navigate here, others (new tab…) are left to the browser. */
export function onLinkClick(event: MouseEvent, path: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}

window.addEventListener('popstate', () => {
  currentPath.value = normalise(window.location.pathname);
});
