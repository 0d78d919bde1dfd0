/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: {
    // Never inject <style> at runtime: CSS goes to files (CSP style-src 'self').
    css: 'external',
  },
};
