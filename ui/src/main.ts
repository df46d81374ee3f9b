// Entry point: pick the backend for where the page runs, start the stores, and mount the
// console (shell/App.svelte) into #app.

import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/components.css';

import { mount } from 'svelte';
import { createBackend } from './lib/backend';
import { ConsoleStore } from './lib/stores/console.svelte';
import { initTheme } from './lib/theme';
import App from './shell/App.svelte';

initTheme();
const backend = createBackend();
const app = new ConsoleStore(backend);
const target = document.getElementById('app')!;
target.replaceChildren();
mount(App, { target, props: { app } });
target.removeAttribute('aria-busy');
app.start();
