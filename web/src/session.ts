/**
 * Who is signed in. The session itself is an HttpOnly cookie the page never sees; what the page
 * keeps (in memory only) is the user's name and role and the CSRF token for writes.
 * A server without accounts (no /api/me) leaves everyone a public reader.
 */
import { computed, ref, shallowRef } from 'vue';
import { api, ApiError, setCsrfToken, type SessionUser } from './api.js';

export const sessionUser = shallowRef<SessionUser | null>(null);
/** false until /api/me has answered (or failed). */
export const sessionKnown = ref(false);
/** the server offers sign-in (it answered /api/me). */
export const accountsAvailable = ref(false);

const ROLE_RANK: Readonly<Record<string, number>> = { public: 0, planner: 1, admin: 2 };
export const isPlanner = computed(() => (ROLE_RANK[sessionUser.value?.role ?? 'public'] ?? 0) >= ROLE_RANK.planner);

let loading: Promise<void> | null = null;

/** Ask the server who we are (once; again after sign-in or sign-out). */
export function loadSession(): Promise<void> {
  loading ??= api
    .me()
    .then((me) => {
      sessionUser.value = me.user;
      setCsrfToken(me.csrfToken);
      accountsAvailable.value = true;
    })
    .catch((err: unknown) => {
      sessionUser.value = null;
      setCsrfToken(null);
      // 404: no accounts on this server; anything else: treat as signed out, the panel can retry
      accountsAvailable.value = !(err instanceof ApiError && err.status === 404);
    })
    .finally(() => {
      sessionKnown.value = true;
    });
  return loading;
}

export async function signIn(name: string, password: string): Promise<void> {
  const res = await api.login(name, password);
  sessionUser.value = res.user;
  setCsrfToken(res.csrfToken);
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } finally {
    sessionUser.value = null;
    setCsrfToken(null);
    loading = null;
    // a fresh anonymous token, if the server hands them out
    void loadSession();
  }
}

/** A write was refused because the session ended elsewhere: forget the user. */
export function sessionExpired(): void {
  sessionUser.value = null;
  setCsrfToken(null);
  loading = null;
  void loadSession();
}
