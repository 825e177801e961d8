// The admin-event trail: who changed what through the API, paged by cursor.

import { api, query } from './api.js';
import { el, table } from './dom.js';

export async function render(container) {
    const area = el('div');
    const cursors = [];
    const load = async (after) => {
        const page = await api('/api/v1/admin-events' + query({ after, limit: 100 }));
        area.replaceChildren(table(page.events.length + ' event(s)' + (after ? ' after id ' + after : ''), [
            ['Id', (e) => e.id], ['Time', (e) => e.ts], ['Node', (e) => e.node], ['Role', (e) => e.role],
            ['Client', (e) => e.client_addr], ['Action', (e) => e.action], ['Listener', (e) => e.listener],
            ['Result', (e) => e.result + ' (' + e.status + ')'], ['Detail', (e) => e.detail],
        ], page.events));
        const pager = el('p', { class: 'pager' });
        if (cursors.length > 0) {
            pager.append(el('button', { type: 'button', onclick: () => { cursors.pop(); load(cursors.at(-1)); } }, 'Previous page'));
        }
        if (page.next !== null) {
            pager.append(el('button', { type: 'button', onclick: () => { cursors.push(page.next); load(page.next); } }, 'Next page'));
        }
        area.append(pager);
    };
    container.append(el('h1', {}, 'Admin events'), area);
    await load();
}
