// The CONNECT tunnels open now.

import { api } from './api.js';
import { el, table, bytes } from './dom.js';

export async function render(container) {
    const area = el('div');
    const load = async () => {
        const { tunnels } = await api('/api/v1/tunnels');
        area.replaceChildren(table(tunnels.length + ' tunnel(s) open now', [
            ['Listener', (t) => t.listener], ['Client', (t) => t.clientAddr + ':' + t.clientPort],
            ['Destination', (t) => t.host + ':' + t.port], ['Dialled', (t) => t.upstreamAddr], ['Since', (t) => t.since],
            ['From client', (t) => bytes(t.bytesFromClient)], ['To client', (t) => bytes(t.bytesToClient)],
        ], tunnels));
    };
    container.append(el('h1', {}, 'Tunnels open now'),
        el('p', {}, el('button', { type: 'button', onclick: () => load() }, 'Refresh')), area);
    await load();
}
