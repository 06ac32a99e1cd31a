// Replaced at bundle time from package.json (esbuild --define); the fallback
// is what tests that import the sources see.
declare const RORORT_VERSION: string | undefined;
export const VERSION: string = typeof RORORT_VERSION === 'string' ? RORORT_VERSION : 'dev';
