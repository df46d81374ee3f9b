// Svelte's compiler options, read by the Vite plugin and by svelte-check: runes everywhere
// (no legacy `export let` / `$:` components), and component CSS emitted into the CSS bundle.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: { runes: true, css: 'external' },
};
