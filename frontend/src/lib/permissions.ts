// The signed-in user's permissions, handed down the component tree through
// a Svelte context, so that a record's tools (history, delete) deep in the
// chart can tell what the user may do without every panel passing it on.
// The backend checks every call regardless: this only hides what would be
// refused.

import { getContext, setContext } from 'svelte';
import { can, type Permission, type User } from './api';

const KEY = Symbol('outpost.permissions');

type Getter = () => User | null | undefined;

/** Called once by Home: later calls to may() read the user through get. */
export function providePermissions(get: Getter): void {
  setContext(KEY, get);
}

/** Returns a function telling whether the user holds a permission (false outside Home). */
export function permissions(): (p: Permission) => boolean {
  const get = getContext<Getter | undefined>(KEY);
  return (p) => (get ? can(get(), p) : false);
}

/** The context map for mounting a component outside Home (tests). */
export function permissionContext(get: Getter): Map<symbol, Getter> {
  return new Map([[KEY, get]]);
}
