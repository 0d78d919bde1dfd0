// Imported first by main.ts, before any library. A desktop started with
// LANG=C (common on minimal Linux installs) gives WebKit the language tag
// "C", which is not a BCP 47 tag: any Intl call with navigator.language
// then throws, and a library that does so while loading (the plot library
// does) would stop the whole UI. Replace an invalid tag with "en-US".

export function validLocale(tag: unknown): boolean {
  if (typeof tag !== 'string' || tag === '') return false;
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !validLocale(navigator.language)) {
  Object.defineProperty(navigator, 'language', { get: () => 'en-US', configurable: true });
  Object.defineProperty(navigator, 'languages', { get: () => ['en-US'], configurable: true });
}
